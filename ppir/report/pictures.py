"""The pictures of a report: the window of an image where the error is largest, cut from input,
restored image and target alike, and an error heat-map of it."""
import cv2
import numpy as np

from ..utils.image_io import from_float

CROP = 192  # side of the crops shown for each image (smaller images are shown whole)
HEAT_RANGE = 0.25  # absolute error (of a [0, 1] image) shown as the hottest colour


def rgb3(image):
    """HxWxC float in [0, 1] -> HxWx3 (gray repeated; extra channels, e.g. a second view, dropped)."""
    image = np.asarray(image, dtype=np.float32)
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[:, :, :3]


def worst_window(error, side=CROP):
    """(top, left, height, width) of the ``side``-square window with the largest mean ``error`` (HxW)."""
    height, width = error.shape
    h, w = min(side, height), min(side, width)
    if (h, w) == (height, width):
        return 0, 0, h, w
    box = cv2.boxFilter(error.astype(np.float32), -1, (w, h), normalize=True, borderType=cv2.BORDER_CONSTANT)
    # the box filter is centred: window (top, left) has its mean at (top + h // 2, left + w // 2)
    valid = box[h // 2 : h // 2 + height - h + 1, w // 2 : w // 2 + width - w + 1]
    top, left = np.unravel_index(int(np.argmax(valid)), valid.shape)
    return int(top), int(left), h, w


def heat_map(error, scale=HEAT_RANGE):
    """HxW absolute error -> HxWx3 uint8 RGB (dark blue: none, red: ``scale`` or more)."""
    level = np.clip(error / scale, 0.0, 1.0)
    bgr = cv2.applyColorMap(np.round(level * 255).astype(np.uint8), cv2.COLORMAP_JET)
    return np.ascontiguousarray(bgr[:, :, ::-1])


def crops(images, reference, other):
    """uint8 crops of every image in ``images`` (dict of HxWx3 floats) at the window where
    ``other`` differs most from ``reference``, plus the heat-map of that difference ('error')."""
    error = np.abs(other - reference).mean(axis=2)
    top, left, h, w = worst_window(error)
    window = (slice(top, top + h), slice(left, left + w))
    out = {key: from_float(image[window]) for key, image in images.items()}
    out["error"] = heat_map(error[window])
    return out, (top, left, h, w)
