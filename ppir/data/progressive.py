"""MIRNetV2's progressive learning: patches grow and batches shrink as training goes on.

The dataset always crops the largest patch (``gt_size``, 384 officially) and the loader always
delivers full batches; each iteration the train loop asks ``ProgressiveSchedule`` for the current
``(patch_size, batch_size)`` and cuts the batch down with ``recrop_batch``. Official schedule
(per GPU, 8 GPUs): ``iters [92k, 64k, 48k, 36k, 36k, 24k]``, ``gt_sizes [128, 160, 192, 256,
320, 384]``, ``mini_batch_sizes [8, 5, 4, 2, 1, 1]``.
"""
import numpy as np

from ..errors import ConfigError
from .batch_ops import take_rows


class ProgressiveSchedule:
    """Stage ``j`` covers iterations ``sum(iters[:j]) + 1 .. sum(iters[:j+1])``, counting from 1
    as basicsr does (a loop counting from 0 passes ``step + 1``); after the last stage the last
    sizes stay."""

    def __init__(self, iters, gt_sizes, mini_batch_sizes):
        lists = {"iters": iters, "gt_sizes": gt_sizes, "mini_batch_sizes": mini_batch_sizes}
        lengths = {name: len(values) for name, values in lists.items()}
        if len(set(lengths.values())) != 1 or not iters:
            raise ConfigError(f"progressive learning lists must be non-empty and equally long, got {lengths}")
        for name, values in lists.items():
            if any(int(v) != v or v < 1 for v in values):
                raise ConfigError(f"progressive learning {name} must be positive integers, got {list(values)}")
        self.ends = np.cumsum([int(v) for v in iters])
        self.gt_sizes = [int(v) for v in gt_sizes]
        self.mini_batch_sizes = [int(v) for v in mini_batch_sizes]

    def stage(self, iteration):
        return min(int(np.searchsorted(self.ends, iteration, side="left")), len(self.ends) - 1)

    def __call__(self, iteration):
        """``(patch_size, batch_size)`` for the 1-based ``iteration``."""
        stage = self.stage(iteration)
        return self.gt_sizes[stage], self.mini_batch_sizes[stage]


def recrop_batch(lq, gt, patch_size, batch_size, rng=None):
    """Keep ``batch_size`` samples drawn without replacement, then one random ``patch_size``
    window shared by the whole batch, as the official loop does. NCHW tensors or arrays; a size
    at or above the current one leaves that dimension alone."""
    rng = np.random if rng is None else rng
    count = lq.shape[0]
    if batch_size < count:
        keep = np.sort(rng.choice(count, batch_size, replace=False))
        lq, gt = take_rows(lq, keep), take_rows(gt, keep)
    height, width = gt.shape[-2:]
    crop_h, crop_w = min(patch_size, height), min(patch_size, width)
    if (crop_h, crop_w) != (height, width):
        top = rng.randint(0, height - crop_h + 1)
        left = rng.randint(0, width - crop_w + 1)
        lq = lq[:, :, top : top + crop_h, left : left + crop_w]
        gt = gt[:, :, top : top + crop_h, left : left + crop_w]
    return lq, gt
