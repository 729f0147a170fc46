"""Cut full-resolution training pairs into patches for the SIDD (or any paired) dataset.

  # MPRNet: 300 random 256x256 patches per image
  python tools/generate_patches_sidd.py --src SIDD_Medium_Srgb/Data --dst data/SIDD/train --ps 256 --num_patches 300
  # MIRNetV2: 512x512 grid with 128 px overlap
  python tools/generate_patches_sidd.py --src SIDD_Medium_Srgb/Data --dst data/SIDD_512/train --ps 512 --overlap 128

The source is SIDD-Medium (``<scene>/0001_NOISY_SRGB_010.PNG`` with ``0001_GT_SRGB_010.PNG``)
or any folder with ``input/`` and ``target/`` paired by file name (see docs/datasets.md). The
output is ``<dst>/input`` and ``<dst>/target``, which ``SIDD(split='train')`` and
``PairedImageDataset`` read directly. Rerunning skips patches already written, so an
interrupted run resumes where it stopped.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppir.data.patches import cut_patches, find_pairs  # noqa: E402
from ppir.errors import EXIT_ERROR, PpirError  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", required=True, help="SIDD-Medium Data folder, or a folder with input/ and target/")
    parser.add_argument("--dst", required=True, help="output folder (gets input/ and target/)")
    parser.add_argument("--layout", default="auto", choices=["auto", "sidd", "paired"], help="source layout")
    parser.add_argument("--ps", type=int, default=256, help="patch size in pixels (default 256)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--num_patches", type=int, help="random patches per image (MPRNet; default 300)")
    mode.add_argument("--overlap", type=int, help="grid patches overlapping by this many pixels (MIRNetV2)")
    parser.add_argument("--num_cores", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random patch positions")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.num_patches is None and args.overlap is None:
        args.num_patches = 300
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        pairs = find_pairs(args.src, args.layout)
        totals = cut_patches(
            pairs, args.dst, args.ps, num_patches=args.num_patches, overlap=args.overlap,
            num_cores=args.num_cores, seed=args.seed, progress=not args.quiet,
        )  # fmt: skip
    except PpirError as err:
        if os.environ.get("PPIR_DEBUG") == "1":
            raise
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    print(
        f"{totals['images']} image pairs: {totals['written']} patches written, "
        f"{totals['skipped']} already there, in {args.dst}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
