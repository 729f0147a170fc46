"""Helpers the data tests share: small real photos and on-disk replicas of dataset layouts."""
import os

import cv2
import h5py
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


def clean_and_degraded(index, size=(24, 32)):
    """The (target, input) pair ``write_pairs`` writes for its ``index``-th name, as uint8."""
    clean = np.clip(photo(index, size), 40, 255).astype(np.uint8)
    return clean, darker(clean)


def chw(img, peak=255.0):
    """An HxWxC integer image as the float CxHxW array a dataset item holds."""
    return np.transpose(img, (2, 0, 1)).astype(np.float32) / np.float32(peak)


def windows_equal_to(patch, image):
    """Every ``(top, left)`` where ``image`` holds ``patch`` (both HxWxC) exactly."""
    height, width = patch.shape[:2]
    return [
        (top, left)
        for top in range(image.shape[0] - height + 1)
        for left in range(image.shape[1] - width + 1)
        if np.array_equal(image[top : top + height, left : left + width], patch)
    ]


MATLAB_V73_HEADER = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2018 HDF5 schema 1.00 ."


def save_mat_v73(path, variables):
    """A MATLAB v7.3 file as MATLAB writes it: HDF5 behind a 512-byte text header, every array
    stored with its axes reversed (MATLAB is column-major)."""
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with h5py.File(path, "w", userblock_size=512) as mat:
        for key, value in variables.items():
            mat.create_dataset(key, data=np.asarray(value).T)
    return write_matlab_header(path)


def write_matlab_header(path):
    """Put MATLAB's text header into the 512-byte user block of an HDF5 file made with
    ``h5py.File(path, 'w', userblock_size=512)``."""
    with open(path, "r+b") as handle:
        handle.write(MATLAB_V73_HEADER.ljust(128, b" "))
    return str(path)
