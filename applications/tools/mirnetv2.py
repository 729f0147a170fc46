#!/usr/bin/env python
"""Restore photos with MIRNet-v2 (real denoising, low-light/FiveK enhancement, real-world
super-resolution x2/x3/x4, dual-pixel defocus deblurring).

    python applications/tools/mirnetv2.py --input_image photos/ --task real_denoising [--output_path D]
        [--weight_path W] [--tile N] [--tile_overlap N] [--device cpu|gpu] [--backend B] [--self_ensemble]
    python applications/tools/mirnetv2.py --task sr_x4 --input_image small.png [--no_upscale]
    python applications/tools/mirnetv2.py --task defocus_deblurring --input_left L --input_right R
    python applications/tools/mirnetv2.py --task defocus_deblurring --input_image dpdd/test   # inputL/ + inputR/

Writes OUTPUT_PATH/<task>/<name>.png for every input; exit status 0 only if all were restored.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from ppir.apps import MIRNetV2Predictor  # noqa: E402
from ppir.apps import cli  # noqa: E402


def main(argv=None):
    parser = cli.parser(__doc__.splitlines()[0])
    cli.add_common_arguments(parser, MIRNetV2Predictor, "real_denoising", input_required=False)
    cli.add_dual_view_arguments(parser)
    parser.add_argument("--no_upscale", action="store_true",
                        help="sr_x*: the input is already enlarged to the target size (do not enlarge it first)")
    args = parser.parse_args(argv)
    sources = cli.input_sources(args, parser)
    upscale = False if args.no_upscale else None
    return cli.main(lambda: cli.run_batch(
        MIRNetV2Predictor(args.task, upscale=upscale, **cli.predictor_options(args)), sources, report=args.report))


if __name__ == "__main__":
    sys.exit(main())
