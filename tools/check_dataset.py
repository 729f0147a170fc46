"""Check paired training images before training on them (see docs/finetuning.md).

    python tools/check_dataset.py data/my_pairs [--scale N] [--patch_size P] [--json [FILE]]
    python tools/check_dataset.py --config-file configs/finetune_mprnet_deblurring.yaml -o train.dataset.root=data/my_pairs

Exit status: 0 clean, 1 problems found, 2 usage error.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

from ppir.data.check_cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
