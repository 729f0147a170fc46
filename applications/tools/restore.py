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

from ppir.apps import restore_cli  # noqa: E402

if __name__ == "__main__":
    sys.exit(restore_cli.main(description=__doc__.splitlines()[0]))
