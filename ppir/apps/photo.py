"""From a photo as read (any bit depth and channel count) to the RGB float image a network takes,
and back, keeping what the network must not touch.

* 8 or 16 bit: scaled to [0, 1]; the result is written back at the same depth, rounded.
* Gray (HxW or HxWx1): restored as RGB (the networks are RGB), returned as the mean of the three
  channels, so a gray photo stays gray, in the shape it came in (HxW stays HxW).
* RGBA: the alpha channel is set aside and put back untouched.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import ImageReadError
from ..utils.image_io import from_float, to_float


@dataclass
class Photo:
    rgb: np.ndarray  # HxWx3 float32 in [0, 1]
    dtype: np.dtype  # uint8 or uint16
    gray: bool
    alpha: Optional[np.ndarray]  # HxWx1 in the photo's dtype, or None
    flat: bool = False  # given as HxW (no channel axis): returned as HxW


def split_photo(img, name="array"):
    """A ``Photo`` from an HxW or HxWxC (C in 1, 3, 4) uint8/uint16 array."""
    img = np.asarray(img)
    if img.dtype not in (np.uint8, np.uint16):
        raise ImageReadError(f"{name}: pixel type {img.dtype}; expected uint8 or uint16")
    flat = img.ndim == 2
    if flat:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in (1, 3, 4) or 0 in img.shape:
        raise ImageReadError(f"{name}: shape {img.shape}; expected HxW, HxWx1, HxWx3 or HxWx4")
    alpha = img[:, :, 3:4].copy() if img.shape[2] == 4 else None
    color = img[:, :, :3]
    gray = color.shape[2] == 1
    rgb = to_float(np.repeat(color, 3, axis=2) if gray else color)
    return Photo(rgb=rgb, dtype=img.dtype, gray=gray, alpha=alpha, flat=flat)


def join_photo(restored, photo):
    """The restored HxWx3 float image in the layout, depth and alpha of ``photo``."""
    out = restored.mean(axis=2, keepdims=True) if photo.gray else restored
    out = from_float(out, photo.dtype)
    if photo.alpha is not None:
        out = np.concatenate([out, photo.alpha], axis=2)
    return out[:, :, 0] if photo.flat else out
