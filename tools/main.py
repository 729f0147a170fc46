"""Train, resume or evaluate a ppir model from a YAML config (see docs/training.md).

    python tools/main.py -c configs/quickstart_denoising.yaml
    python tools/main.py -c configs/mprnet_deblurring.yaml --resume auto
    python tools/main.py -c configs/mprnet_deblurring.yaml --evaluate-only --load model_deblurring.pth
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

from ppir.engine.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
