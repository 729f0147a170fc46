#!/usr/bin/env python
"""Restore photos with any network that meets ppir's network contract (docs/design.md).

    python applications/tools/restore.py --arch MPRNet --task Deraining --input_image photos/ [--output_path D]
        [--weight_path W] [--tile N] [--tile_overlap N] [--device cpu|gpu] [--backend B] [--self_ensemble]
    python applications/tools/restore.py --arch MIRNetV2 --task defocus_deblurring --input_left L --input_right R
    python applications/tools/restore.py --arch MyNet --custom_imports my_package.my_net --weight_path W --input_image x.png

--task names a released model of the network (its weights are downloaded once unless --weight_path
is given); a network without released models needs --weight_path. Writes
OUTPUT_PATH/<task or network>/<name>.png for every input; exit status 0 only if all were restored.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from ppir.apps import Predictor  # noqa: E402
from ppir.apps import cli  # noqa: E402
from ppir.archs.model_index import index  # noqa: E402
from ppir.utils.custom_imports import import_custom  # noqa: E402


def released_tasks():
    return "; ".join(f"{arch}: {', '.join(tasks)}" for arch, tasks in index().items())


def main(argv=None):
    parser = cli.parser(__doc__.splitlines()[0])
    parser.add_argument("--arch", required=True, help="a registered network (MPRNet, MIRNetV2, MIRNet, or your own)")
    parser.add_argument("--custom_imports", nargs="+", default=None, metavar="MODULE",
                        help="modules to import first (where your own network registers itself)")
    cli.add_common_arguments(parser, None, None, input_required=False,
                             task_help=f"a released model of the network (any case): {released_tasks()}")
    cli.add_dual_view_arguments(parser)
    parser.add_argument("--no_upscale", action="store_true",
                        help="sr_x*: the input is already enlarged to the target size (do not enlarge it first)")
    args = parser.parse_args(argv)
    sources = cli.input_sources(args, parser)
    upscale = False if args.no_upscale else None

    def run():
        import_custom(args.custom_imports)
        predictor = Predictor(args.arch, args.task, upscale=upscale, **cli.predictor_options(args))
        return cli.run_batch(predictor, sources, report=args.report)

    return cli.main(run)


if __name__ == "__main__":
    sys.exit(main())
