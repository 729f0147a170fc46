"""Padding an NCHW batch up to the size a network accepts, and cropping the result back (used by
the predictors and by evaluation in training).

Like the official demos, the pad goes on the bottom and right only, mirrored (reflect) so the
network sees image-like content rather than a hard edge. ``numpy.pad`` reflects repeatedly when
the pad is longer than the image (a 5x3 image padded to 8x8 is fine); a side of one pixel has
nothing to mirror, so it is repeated instead (a 1x1 image becomes a flat 8x8 one).
"""
import numpy as np


def padded_size(size, multiple):
    """The smallest multiple of ``multiple`` that is >= size (rounded up, never truncated)."""
    return -(-size // multiple) * multiple


def pad_to_multiple(x, multiple):
    """Return (padded copy of NCHW ``x``, (h, w)) with H and W multiples of ``multiple``."""
    height, width = x.shape[2], x.shape[3]
    pad_h = padded_size(height, multiple) - height
    pad_w = padded_size(width, multiple) - width
    if not pad_h and not pad_w:
        return x, (height, width)
    x = _pad_axis(x, 2, pad_h)
    x = _pad_axis(x, 3, pad_w)
    return x, (height, width)


def _pad_axis(x, axis, amount):
    if not amount:
        return x
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, amount)
    mode = "reflect" if x.shape[axis] > 1 else "edge"
    return np.pad(x, widths, mode=mode)


def crop(x, size):
    height, width = size
    return x[:, :, :height, :width]
