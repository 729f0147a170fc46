"""``tools/check_dataset.py``: check paired training data (see ``ppir.data.checks``).

Exit status: 0 when nothing was found, 1 when problems were found, 2 for usage errors (bad
arguments, a missing ROOT, a config that cannot be read).
"""
import argparse
import json
import os
import sys

from ..errors import EXIT_ERROR, EXIT_OK, EXIT_SOME_FAILED, PpirError
from ..utils.atomic import write_text_atomic
from .checks import MAX_SHIFT, check_dataset_config, check_paired_root, config_datasets

EXIT_CLEAN, EXIT_PROBLEMS, EXIT_USAGE = EXIT_OK, EXIT_SOME_FAILED, EXIT_ERROR  # ppir.errors: one convention


def build_parser():
    p = argparse.ArgumentParser(
        prog="tools/check_dataset.py",
        description="Check paired images (ROOT/input/X with ROOT/target/X) before training on them: unpaired, "
                    "unreadable or truncated files, size/channel/bit-depth mismatches, duplicates, misaligned "
                    "pairs, images smaller than the training patch.",
        epilog="Exit status: 0 clean, 1 problems found, 2 usage error.",
    )  # fmt: skip
    p.add_argument("root", nargs="?", metavar="ROOT", help="folder holding input/ and target/")
    p.add_argument("-c", "--config-file", metavar="C", help="check every dataset this run config names instead")
    p.add_argument("-o", "--opt", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                   help="with --config-file: config overrides, as tools/main.py takes them")
    p.add_argument("--scale", type=int, default=1, metavar="N", help="targets are N times the inputs' size (default 1)")
    p.add_argument("--patch_size", type=int, default=None, metavar="P",
                   help="training patch size: smaller images are reported (with --config-file: the config's)")
    p.add_argument("--input_dir", default="input", help="input folder name under ROOT (default input)")
    p.add_argument("--target_dir", default="target", help="target folder name under ROOT (default target)")
    p.add_argument("--quick", action="store_true",
                   help="headers only (what training checks): skips duplicates and alignment, which decode every file")
    p.add_argument("--max_shift", type=float, default=MAX_SHIFT, metavar="PX",
                   help=f"report pairs shifted by this many target pixels or more (default {MAX_SHIFT:g})")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="write the findings as JSON to FILE, or to standard output when no FILE is given")
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if bool(args.root) == bool(args.config_file):
        parser.error("give ROOT or --config-file (one of them)")
    if args.scale < 1 or (args.patch_size is not None and args.patch_size < 1) or args.max_shift <= 0:
        parser.error("--scale and --patch_size must be positive integers, --max_shift a positive number")
    try:
        reports = _run(args)
    except PpirError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    text_out = sys.stderr if args.json == "-" else sys.stdout
    for report in reports:
        print("\n".join(report.lines()), file=text_out, flush=True)
    if args.json:
        _write_json([r.as_dict() for r in reports], args.json)
    return EXIT_CLEAN if all(r.ok for r in reports) else EXIT_PROBLEMS


def _run(args):
    options = dict(deep=not args.quick, max_shift=args.max_shift, progress=True)
    if args.root:
        if not os.path.isdir(args.root):
            raise PpirError(f"{args.root}: no such folder")
        return [check_paired_root(args.root, args.input_dir, args.target_dir, scale=args.scale,
                                  patch_size=args.patch_size, **options)]  # fmt: skip
    from ..engine.config import load_config

    cfg = load_config(args.config_file, args.opt)
    datasets = config_datasets(cfg)
    if not datasets:
        raise PpirError(f"{args.config_file}: names no datasets")
    return [check_dataset_config(name, ds_cfg, patch_size=args.patch_size or patch, scale=args.scale, **options)
            for name, ds_cfg, patch in datasets]  # fmt: skip


def _write_json(data, target):
    text = json.dumps({"datasets": data, "ok": all(d["ok"] for d in data)}, indent=2)
    if target == "-":
        print(text)
        return
    write_text_atomic(target, text + "\n")
