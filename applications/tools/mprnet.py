#!/usr/bin/env python
"""Restore photos with MPRNet (deblurring, denoising, deraining).

    python applications/tools/mprnet.py --input_image photos/ --task Deraining [--output_path D]
        [--weight_path W] [--tile N] [--tile_overlap N] [--device cpu|gpu] [--backend B] [--self_ensemble]

Writes OUTPUT_PATH/<Task>/<name>.png for every input; exit status 0 only if all were restored.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from ppir.apps import MPRPredictor  # noqa: E402
from ppir.apps import cli  # noqa: E402


def main(argv=None):
    parser = cli.add_common_arguments(cli.parser(__doc__.splitlines()[0]), MPRPredictor, "Deblurring")
    args = parser.parse_args(argv)
    sources = cli.input_sources(args, parser)
    return cli.main(lambda: cli.run_batch(
        MPRPredictor(args.task, **cli.predictor_options(args)), sources, report=args.report))


if __name__ == "__main__":
    sys.exit(main())
