"""``tools/main.py``: train, resume or evaluate from a config, with PaddleGAN's familiar flags.

User mistakes end in one line ``error: ...`` and a non-zero exit (traceback only with
``PPIR_DEBUG=1``); so do running out of GPU memory (with what to lower) and a diverging loss.
"""
import argparse
import os
import sys

import paddle

from ..errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_SOME_FAILED, BadDataError, ConfigError, PlaceError, PpirError
from ..utils.device import is_gpu
from ..utils.out_of_memory import is_out_of_memory
from .config import load_config
from .runner import evaluate, train

EXIT_PLACE = EXIT_ERROR  # a folder to write to is unusable (checked before any work)


def build_parser():
    p = argparse.ArgumentParser(
        prog="tools/main.py",
        description="Train or evaluate a ppir model from a YAML config.",
        epilog="Several GPUs/CPUs: python -m paddle.distributed.launch --nproc_per_node N tools/main.py -c ...",
    )
    p.add_argument("-c", "--config-file", required=True, metavar="FILE", help="experiment YAML")
    p.add_argument("--evaluate-only", action="store_true",
                   help="score --load on every val/test set of the config (builds no training data)")
    p.add_argument("--load", metavar="W", help="start from these weights (.pth, .pdparams or ppir checkpoint)")
    p.add_argument("--resume", nargs="?", const="auto", metavar="PATH|auto",
                   help="continue a run exactly from a checkpoint; 'auto' (or no value): the run's latest")
    p.add_argument("-o", "--opt", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                   help="override config values, e.g. -o train.total_iters=1000 train.optimizer.lr=1e-4")
    p.add_argument("--seed", type=int, help="random seed (config key 'seed')")
    p.add_argument("--amp", action="store_true", help="mixed precision training on GPU (train.amp)")
    p.add_argument("--amp-level", choices=("O1", "O2"), help="AMP level (train.amp_level)")
    p.add_argument("--device", help="cpu, gpu or gpu:N (default: GPU when there is one)")
    p.add_argument("--output-dir", help="where runs (and --evaluate-only results) go (config key output_dir)")
    p.add_argument("--save-images", action="store_true", help="--evaluate-only: also write the restored images")
    p.add_argument("--report", action="store_true",
                   help="--evaluate-only: also write <output dir>/report/ (per_image.csv, index.html)")
    return p


def flag_overrides(args):
    """The command-line flags as config overrides, so the run folder's config.yaml records them."""
    pairs = [("seed", args.seed), ("train.amp_level", args.amp_level), ("device", args.device),
             ("output_dir", args.output_dir), ("train.amp", True if args.amp else None)]  # fmt: skip
    return [f"{key}={_yaml_scalar(value)}" for key, value in pairs if value is not None]


def _yaml_scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def run(args):
    cfg = load_config(args.config_file, list(args.opt) + flag_overrides(args))
    try:
        return _run_loaded(args, cfg)
    except ConfigError as exc:  # found while building a part: say which config it came from
        if args.config_file in str(exc):
            raise
        raise ConfigError(f"{args.config_file} (or its _base_ files / -o): {exc}") from None


def _run_loaded(args, cfg):
    if args.evaluate_only:
        if args.resume:
            raise PpirError("--resume continues training; with --evaluate-only give the weights with --load")
        return evaluate(cfg, args.load, save_images=args.save_images, report=args.report)
    if args.save_images:
        raise PpirError("--save-images goes with --evaluate-only (training saves samples per val.save_images)")
    if args.report:
        raise PpirError("--report goes with --evaluate-only (for training: val.report: true)")
    if args.resume and args.load:
        raise PpirError("give --resume (continue a run) or --load (start from weights), not both")
    return train(cfg, resume=args.resume, load=args.load)


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except KeyboardInterrupt:
        print("interrupted; continue with --resume auto", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - every failure ends in one explained line
        message = explain_failure(exc)
        if message is None or os.environ.get("PPIR_DEBUG") == "1":
            raise
        print(f"error: {message}", file=sys.stderr)
        return exit_status(exc)
    return 0


def exit_status(exc):
    """An unreadable dataset file is an input that failed (1); anything else that stops the run
    before or while it works is a usage, config, input or place error (2)."""
    if isinstance(exc, BadDataError):
        return EXIT_SOME_FAILED
    return EXIT_PLACE if isinstance(exc, PlaceError) else EXIT_ERROR


def explain_failure(exc, device=None):
    """One line for failures the user can fix, or None for bugs (shown with a traceback)."""
    if isinstance(exc, PpirError):
        return str(exc)
    device = paddle.get_device() if device is None else device
    if is_gpu(device) and is_out_of_memory(exc):
        detail = _first_meaningful_line(str(exc))
        return (
            f"out of GPU memory ({detail}). Lower train.batch_size or the patch size "
            "(train.dataset.patch_size / train.progressive.patch_sizes), try --amp, or use more GPUs; "
            "for evaluation, large images need more memory than training patches"
        )
    return None


def _first_meaningful_line(text):
    for line in text.splitlines():
        line = line.strip()
        if line and "ResourceExhaustedError" not in line and not line.startswith("-"):
            return line.rstrip(".")
    return "no details"

