"""What the restoration command-line scripts share: their common options, a batch run with a
progress bar and a summary, and the error convention (``error: <message>``, exit status 2;
traceback only with ``PPIR_DEBUG=1``). Exit status 0 means every input was restored; 1 means
some were not (the summary lists them, one line each); 130 interrupted (``ppir.errors.EXIT_*``)."""
import argparse
import logging
import os
import sys

from ..errors import EXIT_ERROR, PpirError
from ..utils.image_limits import DEFAULT_MAX_PIXELS, MAX_PIXELS_ENV, parse_pixel_count
from . import batch
from .backends import BACKENDS
from .batch import BatchRequest
from .interrupt import Interrupted, stop_on_signals
from .sharding import rank_device


def add_common_arguments(parser, predictor_class, default_task, input_required=True, task_help=None):
    # input_required is accepted for callers; input_sources checks that something was given, since
    # --input_video may replace --input_image.
    tasks = ", ".join(predictor_class.tasks) if predictor_class is not None else ""
    parser.add_argument("--input_image", nargs="+",
                        help="image file, folder (walked recursively, sub-folders kept in the output), glob "
                             "pattern ('photos/*.jpg'), or several of them")
    parser.add_argument("--input_video", nargs="+", default=[],
                        help="video file(s) (any format ffmpeg reads): restored frame by frame into "
                             "OUTPUT_PATH/<task>/<stem>.mp4, audio copied")
    parser.add_argument("--skip_existing", action="store_true",
                        help="skip inputs whose output already exists (finish an interrupted run)")
    parser.add_argument("--task", default=default_task,
                        help=task_help or f"one of {tasks} (any case; default {default_task})")
    parser.add_argument("--output_path", default="output_dir", help="results go to OUTPUT_PATH/<task>/<name>.png")
    parser.add_argument("--weight_path", default=None,
                        help="weights file (official .pth, PaddleGAN .pdparams, ppir); default: the released "
                             "weights for the task, downloaded once")
    parser.add_argument("--tile", type=int, default=None,
                        help="restore in tiles of this size (rounded down to the network's size multiple); "
                             "default: chosen from available memory; 0: never tile")
    parser.add_argument("--tile_overlap", type=int, default=32, help="pixels shared by neighbouring tiles")
    parser.add_argument("--device", default=None, help="cpu, gpu or gpu:N (default: gpu if available)")
    parser.add_argument("--backend", default="auto", choices=("auto",) + BACKENDS,
                        help="inference engine (default: the fastest installed one that matches dygraph)")
    parser.add_argument("--self_ensemble", action="store_true", help="average the 8 flips/rotations (8x slower)")
    parser.add_argument("--fp16", action="store_true", help="GPU only: half precision (paddle-inference)")
    parser.add_argument("--tensorrt", action="store_true", help="GPU only: TensorRT (paddle-inference)")
    parser.add_argument("--report", action="store_true", help="also write OUTPUT_PATH/<task>/report/index.html "
                                                              "(input against restored)")
    parser.add_argument("--max_pixels", type=positive_int, default=None,
                        help=f"refuse images with more pixels than this, from their header (default "
                             f"{DEFAULT_MAX_PIXELS:_}, or ${MAX_PIXELS_ENV})")
    return parser


def add_dual_view_arguments(parser):
    parser.add_argument("--input_left", help="defocus_deblurring: left view(s): a file or a folder")
    parser.add_argument("--input_right", help="defocus_deblurring: right view(s), matched to the left by file name")
    return parser


def input_sources(args, parser):
    """What to restore: --input_image, or the --input_left/--input_right pair."""
    left, right = getattr(args, "input_left", None), getattr(args, "input_right", None)
    if left or right:
        if not (left and right):
            parser.error("--input_left and --input_right go together")
        return BatchRequest((left, right), args.input_video, args.skip_existing)
    if not args.input_image and not args.input_video:
        parser.error("--input_image or --input_video is required "
                     "(or --input_left and --input_right for defocus_deblurring)")
    return BatchRequest(args.input_image, args.input_video, args.skip_existing)


def positive_int(text):
    value = parse_pixel_count(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def predictor_options(args):
    if getattr(args, "max_pixels", None):  # the readers take the limit from the environment
        os.environ[MAX_PIXELS_ENV] = str(args.max_pixels)
    return dict(output_path=args.output_path, weight_path=args.weight_path, device=rank_device(args.device), tile=args.tile,
                tile_overlap=args.tile_overlap, self_ensemble=args.self_ensemble, backend=args.backend,
                fp16=args.fp16, tensorrt=args.tensorrt)


def run_batch(predictor, sources, out=sys.stdout, report=False):
    """Restore every input (``sources``: what ``input_sources`` returns, or anything ``collect``
    takes) with a progress bar, over the processes of ``paddle.distributed.launch`` when started
    by it; print one summary, write the manifest (and, with ``report``, the input-against-restored
    page ``ppir.report.photo_report``); return the exit status (see ``ppir.apps.batch``)."""
    status = batch.run(predictor, sources, out)
    if report:
        from ..report.photo_report import report_from_manifest

        page = report_from_manifest(os.path.join(predictor.output_path, predictor.task), predictor.task)
        if page:
            print(f"report: {page}", file=out, flush=True)
    return status


def main(run):
    """Call ``run()`` (builds a predictor, runs it, returns an exit status) the CLI way."""
    logging.basicConfig(format="%(message)s")
    logging.getLogger("ppir").setLevel(logging.INFO)
    try:
        with stop_on_signals():
            return run()
    except Interrupted as stop:  # before the batch started (the batch reports its own)
        print(f"interrupted by {stop.name}", file=sys.stderr)
        return stop.exit_status
    except PpirError as err:
        if os.environ.get("PPIR_DEBUG") == "1":
            raise
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR


def parser(description):
    return argparse.ArgumentParser(description=description)
