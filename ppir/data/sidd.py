"""SIDD sRGB validation/benchmark blocks in .mat files, and the ``Idenoised.mat`` result file.

``ValidationNoisyBlocksSrgb.mat`` / ``ValidationGtBlocksSrgb.mat`` each hold one uint8 array,
under a key equal to the file stem, of shape 40 images x 32 blocks x 256 x 256 x 3. The papers'
SIDD numbers are on these 1280 validation blocks (scored in RGB by evaluate_SIDD.m).
"""
import os

import numpy as np
from paddle.io import Dataset

from ..errors import DatasetError
from ..registry import DATASETS
from ..utils.image_io import to_float
from .blocks import block_name, group_blocks
from .files import preview, require_dir
from .mat_files import load_mat_variable, save_mat
from .transforms import to_chw

SIDD_RESULT_KEY = "Idenoised"


def load_blocks(path):
    """A ``images x blocks x H x W x 3`` array from a .mat file whose variable is named after it."""
    key = os.path.splitext(os.path.basename(path))[0]
    blocks = load_mat_variable(path, key)
    if blocks.ndim != 5 or blocks.shape[-1] != 3:
        raise DatasetError(f"{path}: {key} has shape {blocks.shape}; expected images x blocks x H x W x 3")
    if blocks.shape[0] * blocks.shape[1] == 0:
        raise DatasetError(f"{path}: {key} holds no blocks")
    return blocks


@DATASETS.register()
class SIDDValidation(Dataset):
    """The SIDD blocks as items ``{'lq', 'gt', 'name': '0001_01'}`` (image, block; 1-based).

    ``root`` is the folder with the two .mat files. ``gt_file=None`` reads noisy blocks only
    (e.g. ``noisy_file='BenchmarkNoisyBlocksSrgb.mat'``, whose ground truth is not public); items
    then have no 'gt' key.
    """

    def __init__(self, root, noisy_file="ValidationNoisyBlocksSrgb.mat", gt_file="ValidationGtBlocksSrgb.mat"):
        super().__init__()
        self.root = require_dir(os.fspath(root))
        self.noisy = load_blocks(os.path.join(self.root, noisy_file))
        self.gt = None
        if gt_file is not None:
            self.gt = load_blocks(os.path.join(self.root, gt_file))
            if self.gt.shape != self.noisy.shape:
                raise DatasetError(
                    f"{os.path.join(self.root, gt_file)}: shape {self.gt.shape} differs from "
                    f"{noisy_file}'s {self.noisy.shape}"
                )

    @property
    def shape(self):
        return self.noisy.shape

    def __len__(self):
        return self.noisy.shape[0] * self.noisy.shape[1]

    def __getitem__(self, index):
        image, block = divmod(index, self.noisy.shape[1])
        item = {"lq": to_chw(to_float(self.noisy[image, block])), "name": block_name(image, block)}
        if self.gt is not None:
            item["gt"] = to_chw(to_float(self.gt[image, block]))
        return item


def write_sidd_submission(blocks, path, grid=None):
    """Write ``Idenoised.mat``: key 'Idenoised', float32 ``images x blocks x H x W x 3``, clipped
    to [0, 1], as the official test scripts write it and evaluate_SIDD.m reads it. (The SIDD
    benchmark server takes another file, its own kit's ``SubmitSrgb.mat``.)

    ``blocks`` is that 5-D array, or a mapping ``{'0001_01': HxWx3 array, ...}`` covering every
    image and block (a gap is a ``DatasetError`` naming the missing blocks). Names only show gaps
    before the last image and block present; ``grid=(images, blocks_per_image)``, the validation
    set's own (``SIDDValidation.shape[:2]``), also catches missing trailing ones.
    """
    if isinstance(blocks, dict):
        blocks = _stack_named_blocks(blocks, grid)
    blocks = np.asarray(blocks, dtype=np.float32)
    if blocks.ndim != 5 or blocks.shape[-1] != 3:
        raise DatasetError(f"{path}: SIDD result must be images x blocks x H x W x 3, got {blocks.shape}")
    return save_mat(path, {SIDD_RESULT_KEY: np.clip(blocks, 0.0, 1.0)})


def _stack_named_blocks(named, grid=None):
    if not named:
        raise DatasetError("no SIDD blocks to write")
    grouped = group_blocks(named)
    images = max(grouped) + 1
    per_image = max(max(g) for g in grouped.values()) + 1
    if grid is not None:
        if images > grid[0] or per_image > grid[1]:
            raise DatasetError(
                f"SIDD result has blocks beyond {grid[0]} images x {grid[1]} blocks "
                f"(last {block_name(images - 1, per_image - 1)})"
            )
        images, per_image = grid
    missing = [
        block_name(i, k) for i in range(images) for k in range(per_image) if k not in grouped.get(i, {})
    ]
    if missing:
        raise DatasetError(f"SIDD result is missing {len(missing)} block(s): {preview(missing)}")
    first = np.asarray(next(iter(named.values())))
    out = np.empty((images, per_image, *first.shape), dtype=np.float32)
    for image, row in grouped.items():
        for index, block in row.items():
            out[image, index] = block
    return out
