"""Network inputs other than one photo at its own size: two dual-pixel views stacked into six
channels, and a photo enlarged (bicubic) for models that restore at the target size (RealSR v1)."""
import cv2
import numpy as np

from ..errors import ImageReadError
from .photo import split_photo


def stack_views(pair, task):
    """(HxWx6 float32 left+right, the left view's ``Photo``) from a (left, right) pair of arrays."""
    if not (isinstance(pair, tuple) and len(pair) == 2):
        raise ImageReadError(f"{task} takes a (left, right) pair of views")
    left, right = (split_photo(view, name) for view, name in zip(pair, ("left view", "right view")))
    if left.rgb.shape != right.rgb.shape:
        raise ImageReadError(f"left and right views differ in size: {left.rgb.shape[:2]} vs {right.rgb.shape[:2]}")
    return np.concatenate([left.rgb, right.rgb], axis=2), left


def enlarge(photo, factor):
    """(the photo's RGB enlarged ``factor`` times, bicubic and clipped; the photo, its alpha
    enlarged the same way)."""
    height, width = photo.rgb.shape[:2]
    size = (width * factor, height * factor)
    rgb = np.clip(cv2.resize(photo.rgb, size, interpolation=cv2.INTER_CUBIC), 0.0, 1.0)
    if photo.alpha is not None:
        photo.alpha = cv2.resize(photo.alpha[:, :, 0], size, interpolation=cv2.INTER_CUBIC)[:, :, None]
    return rgb, photo
