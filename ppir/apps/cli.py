"""What the restoration command-line scripts share: their common options, a batch run with a
progress bar and a summary, and the error convention (``error: <message>``, exit status 2;
traceback only with ``PPIR_DEBUG=1``). Exit status 0 means every input was restored; 1 means
some were not (the summary lists them, one line each)."""
import argparse
import logging
import os
import sys
import time

from tqdm import tqdm

from ..errors import PpirError
from .backends import BACKENDS


def add_common_arguments(parser, predictor_class, default_task, input_required=True, task_help=None):
    tasks = ", ".join(predictor_class.tasks) if predictor_class is not None else ""
    parser.add_argument("--input_image", nargs="+", required=input_required,
                        help="image file, folder, glob pattern ('photos/*.jpg'), or several of them")
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
        return (left, right)
    if not args.input_image:
        parser.error("--input_image is required (or --input_left and --input_right for defocus_deblurring)")
    return args.input_image


def predictor_options(args):
    return dict(output_path=args.output_path, weight_path=args.weight_path, device=args.device, tile=args.tile,
                tile_overlap=args.tile_overlap, self_ensemble=args.self_ensemble, backend=args.backend,
                fp16=args.fp16, tensorrt=args.tensorrt)


def run_batch(predictor, sources, out=sys.stdout):
    """Restore every input with a progress bar, print a summary; return the exit status."""
    start = time.perf_counter()
    jobs, failures = predictor.collect(sources)
    print(f"{len(jobs)} image(s) to restore with {predictor.backend.description}", file=out, flush=True)
    restored = 0
    for source, output in tqdm(jobs, unit="image", desc=predictor.task, file=sys.stderr):
        result = predictor.run_job(source, output)
        if result.error is None:
            restored += 1
        else:
            failures.append((result.source, result.error))
    seconds = time.perf_counter() - start
    folder = os.path.join(predictor.output_path, predictor.task)
    total = restored + len(failures)
    print(f"restored {restored} of {total} image(s) in {seconds:.1f} s; results in {folder}", file=out)
    if failures:
        print(f"{len(failures)} failed:", file=out)
        for _, reason in failures:
            print(f"  {reason}", file=out)
    return 0 if restored and not failures else 1


def main(run):
    """Call ``run()`` (builds a predictor, runs it, returns an exit status) the CLI way."""
    logging.basicConfig(format="%(message)s")
    logging.getLogger("ppir").setLevel(logging.INFO)
    try:
        return run()
    except PpirError as err:
        if os.environ.get("PPIR_DEBUG") == "1":
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2


def parser(description):
    return argparse.ArgumentParser(description=description)
