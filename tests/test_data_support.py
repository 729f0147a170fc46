"""Helpers the data tests share: small real photos and on-disk replicas of dataset layouts."""
import os

import cv2
import numpy as np
import skimage.data

from ppir.utils.image_io import write_image

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


def photo(index=0, size=(24, 32)):
    """A small uint8 RGB crop of a scikit-image photo (height, width = size)."""
    img = getattr(skimage.data, PHOTOS[index % len(PHOTOS)])()
    return np.ascontiguousarray(cv2.resize(img, (size[1], size[0]), interpolation=cv2.INTER_AREA))


def photo16(index=0, size=(24, 32)):
    """A 16-bit version whose low byte is not zero, so a reader that drops it is caught."""
    return photo(index, size).astype(np.uint16) * 257 + np.uint16(index + 1)


def darker(img, amount=40):
    """A 'degraded' partner: the photo minus a constant (clean = degraded + amount, no clipping)."""
    return (np.clip(img, amount, None) - amount).astype(img.dtype)


def write_pairs(folder, names, input_dir="input", target_dir="target", size=(24, 32), ext=".png"):
    """``folder/<input_dir>/<name>`` and ``folder/<target_dir>/<name>`` for each name; the target
    is a photo clipped to [40, 255] and the input that photo minus 40, so gt - lq == 40/255."""
    inputs = [input_dir] if isinstance(input_dir, str) else list(input_dir)
    for i, name in enumerate(names):
        clean = np.clip(photo(i, size), 40, 255).astype(np.uint8)
        write_image(os.path.join(folder, target_dir, name + ext), clean)
        for d in inputs:
            write_image(os.path.join(folder, d, name + ext), darker(clean))
    return folder
