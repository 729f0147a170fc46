#!/usr/bin/env python
"""Serve photo restoration over HTTP (FastAPI + uvicorn); see docs/serving.md.

    python applications/tools/serve.py --arch MPRNet --task Deraining [--weight_path W] [--host 127.0.0.1]
        [--port 8866] [--backend auto] [--device cpu|gpu] [--max_queue N] [--max_bytes B] [--max_pixels P]
        [--timeout S]

    curl --data-binary @photo.jpg http://127.0.0.1:8866/v1/restore -o out.png

Open http://127.0.0.1:8866/ for the page. SIGTERM (or Ctrl-C) answers what is in flight, then exits 0.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from ppir.apps.backends import BACKENDS  # noqa: E402
from ppir.serve.limits import Limits  # noqa: E402
from ppir.serve.server import serve  # noqa: E402


def main(argv=None):
    defaults = Limits()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", required=True, help="a registered network: MPRNet, MIRNetV2, MIRNet")
    parser.add_argument("--task", default=None,
                        help="a released model of the network (any case), e.g. Deraining or real_denoising; "
                             "needed without --weight_path")
    parser.add_argument("--weight_path", default=None, help="weights file; default: the task's released weights")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=8866)
    parser.add_argument("--backend", default="auto", choices=("auto",) + BACKENDS)
    parser.add_argument("--device", default=None, help="cpu, gpu or gpu:N (default: gpu if available)")
    parser.add_argument("--max_queue", type=int, default=defaults.max_queue,
                        help=f"requests admitted at once (uploading, waiting or restored); more get 503 "
                             f"(default {defaults.max_queue})")
    parser.add_argument("--max_bytes", type=int, default=defaults.max_bytes,
                        help=f"largest request body in bytes; more get 413 (default {defaults.max_bytes})")
    parser.add_argument("--max_pixels", type=int, default=defaults.max_pixels,
                        help=f"largest image (width x height, read from its header); more get 413 "
                             f"(default {defaults.max_pixels})")
    parser.add_argument("--timeout", type=float, default=defaults.timeout,
                        help=f"seconds a request may take in all; past it 504 (default {defaults.timeout:g})")
    args = parser.parse_args(argv)
    try:
        limits = Limits(args.max_bytes, args.max_pixels, args.max_queue, args.timeout)
    except ValueError as err:
        parser.error(str(err))
    return serve(args.arch, args.task, args.weight_path, args.host, args.port, args.backend, args.device, limits)


if __name__ == "__main__":
    sys.exit(main())
