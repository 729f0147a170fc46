"""The command line of ``applications/tools/restore.py`` (any network, ``--arch NAME``) and of the
family scripts built on it (``mirnet.py``): the common options of ``cli``, plus the two-view
options where the network has a two-view model and ``--no_upscale`` where it has a model that
restores at the target size."""
from ..archs.model_index import index, released_models
from ..utils.custom_imports import import_custom
from . import cli
from .base_predictor import Predictor


def task_help(arch=None):
    tables = {arch: released_models(arch)} if arch else index()
    listed = "; ".join(f"{name}: {', '.join(tasks)}" for name, tasks in tables.items())
    return f"a released model of the network (any case): {listed}"


def build_parser(description, arch=None, default_task=None):
    parser = cli.parser(description)
    releases = list(released_models(arch).values()) if arch else None
    if arch is None:
        parser.add_argument("--arch", required=True, help="a registered network (MPRNet, MIRNetV2, MIRNet, or your own)")
        parser.add_argument("--custom_imports", nargs="+", default=None, metavar="MODULE",
                            help="modules to import first (where your own network registers itself)")
    dual_view = releases is None or any(r.views == 2 for r in releases)
    cli.add_common_arguments(parser, None, default_task, input_required=not dual_view, task_help=task_help(arch))
    if dual_view:
        cli.add_dual_view_arguments(parser)
    if releases is None or any(r.enlarge > 1 for r in releases):
        parser.add_argument("--no_upscale", action="store_true",
                            help="sr_x*: the input is already enlarged to the target size (do not enlarge it first)")
    return parser


def main(argv=None, description=None, arch=None, default_task=None):
    """Parse ``argv``, restore every input with ``Predictor(arch or --arch, --task, ...)``;
    returns the exit status (``ppir.errors.EXIT_*``)."""
    parser = build_parser(description, arch, default_task)
    args = parser.parse_args(argv)
    sources = cli.input_sources(args, parser)
    options = cli.predictor_options(args)
    if getattr(args, "no_upscale", False):
        options["upscale"] = False

    def run():
        import_custom(getattr(args, "custom_imports", None))
        return cli.run_batch(Predictor(arch or args.arch, args.task, **options), sources, report=args.report)

    return cli.main(run)
