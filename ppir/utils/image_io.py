"""Reading and writing photos the way restoration needs them: RGB channel order, 8 or 16 bit kept,
EXIF orientation applied, alpha kept apart, and a one-line ``ImageReadError`` for anything else.
"""
import os

import cv2
import numpy as np

from ..errors import ImageReadError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def is_image_file(path):
    return str(path).lower().endswith(IMAGE_EXTENSIONS)


def read_image(path, apply_exif=True):
    """Read ``path`` as an HxWxC array in RGB(A) order with its own dtype (uint8 or uint16).

    Grayscale files come back HxWx1. EXIF orientation is applied (cv2 does it for JPEG when the
    IMREAD_UNCHANGED flag is not used, so we ask for it explicitly).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ImageReadError(f"{path}: no such file")
    if os.path.isdir(path):
        raise ImageReadError(f"{path}: is a directory, not an image")
    if os.path.getsize(path) == 0:
        raise ImageReadError(f"{path}: empty file")
    data = np.fromfile(path, dtype=np.uint8)  # fromfile + imdecode also handles non-ASCII paths
    flags = cv2.IMREAD_UNCHANGED
    img = cv2.imdecode(data, flags)
    if img is None:
        raise ImageReadError(f"{path}: not an image, or a truncated/corrupt one")
    if img.dtype not in (np.uint8, np.uint16):
        if img.dtype == np.float32 or img.dtype == np.float64:
            img = np.clip(img, 0, 1)
            img = np.round(img * 65535).astype(np.uint16)
        else:
            raise ImageReadError(f"{path}: unsupported pixel type {img.dtype}")
    if img.ndim == 2:
        img = img[:, :, None]
    elif img.shape[2] == 3:
        img = img[:, :, ::-1]
    elif img.shape[2] == 4:
        img = img[:, :, [2, 1, 0, 3]]
    elif img.shape[2] != 1:
        raise ImageReadError(f"{path}: {img.shape[2]} channels; expected 1 (gray), 3 (RGB) or 4 (RGBA)")
    if apply_exif:
        img = _apply_exif_orientation(data, img)
    return np.ascontiguousarray(img)


def _apply_exif_orientation(raw, img):
    orientation = _exif_orientation(raw.tobytes()[:65536])
    transforms = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],
        8: lambda a: np.rot90(a, 1),
    }
    if orientation in transforms:
        img = transforms[orientation](img)
    return img


def _exif_orientation(head):
    """Orientation tag (1-8) from a JPEG's APP1 EXIF block, or 1 when absent. PNG/TIFF: 1."""
    if head[:2] != b"\xff\xd8":
        return 1
    pos = 2
    while pos + 4 <= len(head):
        if head[pos] != 0xFF:
            return 1
        marker, length = head[pos + 1], int.from_bytes(head[pos + 2 : pos + 4], "big")
        if marker == 0xE1 and head[pos + 4 : pos + 10] == b"Exif\x00\x00":
            tiff = head[pos + 10 : pos + 2 + length]
            return _tiff_orientation(tiff)
        if marker in (0xDA, 0xD9):
            return 1
        pos += 2 + length
    return 1


def _tiff_orientation(tiff):
    if len(tiff) < 8:
        return 1
    order = "little" if tiff[:2] == b"II" else "big"
    ifd = int.from_bytes(tiff[4:8], order)
    if ifd + 2 > len(tiff):
        return 1
    count = int.from_bytes(tiff[ifd : ifd + 2], order)
    for i in range(count):
        entry = ifd + 2 + 12 * i
        if entry + 12 > len(tiff):
            break
        if int.from_bytes(tiff[entry : entry + 2], order) == 0x0112:
            value = int.from_bytes(tiff[entry + 8 : entry + 10], order)
            return value if 1 <= value <= 8 else 1
    return 1


def to_float(img):
    """uint8/uint16 -> float32 in [0, 1]."""
    if img.dtype == np.uint8:
        return img.astype(np.float32) / 255.0
    if img.dtype == np.uint16:
        return img.astype(np.float32) / 65535.0
    return img.astype(np.float32)


def from_float(img, dtype=np.uint8):
    """float in [0, 1] -> uint8/uint16, clipped and rounded (never truncated)."""
    peak = 65535.0 if np.dtype(dtype) == np.uint16 else 255.0
    return np.round(np.clip(img, 0.0, 1.0) * peak).astype(dtype)


def write_image(path, img):
    """Write an HxWxC (C in 1, 3, 4; RGB(A) order) uint8/uint16 array; the format follows the suffix."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if img.ndim == 3 and img.shape[2] == 3:
        img = img[:, :, ::-1]
    elif img.ndim == 3 and img.shape[2] == 4:
        img = img[:, :, [2, 1, 0, 3]]
    elif img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    ext = os.path.splitext(path)[1] or ".png"
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(img))
    if not ok:
        raise ImageReadError(f"{path}: could not encode image as {ext}")
    tmp = path + ".tmp"
    buf.tofile(tmp)
    os.replace(tmp, path)
    return path
