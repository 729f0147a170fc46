#!/usr/bin/env python
"""Restore photos with MIRNet v1 (real denoising, LOL / FiveK enhancement, RealSR x3 / x4).

    python applications/tools/mirnet.py --input_image photos/ --task real_denoising --weight_path model_denoising.pth
        [--output_path D] [--tile N] [--tile_overlap N] [--device cpu|gpu] [--backend B] [--self_ensemble]
    python applications/tools/mirnet.py --task sr_x4 --input_image small.png --weight_path model_SR_x4.pth [--no_upscale]

The released v1 weights are on Google Drive (links in the README of https://github.com/swz30/MIRNet),
which cannot be fetched by URL: download the task's file and give it with --weight_path.
Writes OUTPUT_PATH/<task>/<name>.png for every input; exit status 0 only if all were restored.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from ppir.apps import restore_cli  # noqa: E402


def main(argv=None):
    return restore_cli.main(argv, __doc__.splitlines()[0], arch="MIRNet", default_task="real_denoising")


if __name__ == "__main__":
    sys.exit(main())
