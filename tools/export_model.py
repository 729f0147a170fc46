#!/usr/bin/env python
"""Export a ppir network with its weights to a Paddle static graph (and ONNX with --onnx).

    python tools/export_model.py --arch MPRNet --task Deraining [--weight_path W] --output D [--onnx]
    python tools/export_model.py --arch MPRNet --weight_path W --output D [--onnx]   # widths read from W
    python tools/export_model.py --arch MPRNet --task Deraining --output D --format triton
    python tools/export_model.py --arch MyNet --custom_imports my_net --weight_path W --output D

Writes D/model.json + D/model.pdiparams (Paddle Inference), D/model.onnx with --onnx (needs
paddle2onnx), and D/meta.json (architecture, weights hash, Paddle version). Each is run once on a
probe image and compared with the eager network; the differences are printed. Without
--weight_path the released weights of the task are used (downloaded once); with it, --task is
optional: every network's widths are read from the weights (its ``config_from_weights``).

--format triton writes a Triton Inference Server model repository instead: D/<arch>_<task>/1/model.onnx
and D/<arch>_<task>/config.pbtxt (ONNX Runtime backend, dynamic batch, height and width). It is not
tested against a Triton server here.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppir.apps import cli  # noqa: E402
from ppir.apps.exporting import export_model  # noqa: E402
from ppir.apps.triton import export_triton  # noqa: E402
from ppir.utils.custom_imports import import_custom  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", required=True, help="MPRNet, MIRNetV2, MIRNet, ...")
    parser.add_argument("--task", default=None, help="task preset, e.g. Deraining or real_denoising (needed without --weight_path)")
    parser.add_argument("--weight_path", default=None, help="weights file; default: the task's released weights")
    parser.add_argument("--output", required=True, help="new or empty folder for the exported model")
    parser.add_argument("--onnx", action="store_true", help="also write model.onnx (needs paddle2onnx)")
    parser.add_argument("--format", default="paddle", choices=("paddle", "triton"),
                        help="paddle: the folder above; triton: a Triton model repository (ONNX + config.pbtxt)")
    parser.add_argument("--custom_imports", nargs="+", default=None, metavar="MODULE",
                        help="modules to import first (where your own network registers itself)")
    args = parser.parse_args(argv)

    def run():
        import_custom(args.custom_imports)
        if args.format == "triton":
            model, checked = export_triton(args.arch, args.output, args.task, args.weight_path)
            print(f"Triton model repository: {model}/config.pbtxt and {model}/1/model.onnx")
        else:
            checked = export_model(args.arch, args.output, args.task, args.weight_path, args.onnx)
        for backend, diff in checked.items():
            print(f"{backend}: max |difference| from dygraph on a probe image = {diff:.2g}")
        print(f"exported to {args.output}")
        return 0

    return cli.main(run)


if __name__ == "__main__":
    sys.exit(main())
