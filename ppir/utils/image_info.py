"""What an image file holds, from its header alone: size, channels, bit depth, and whether its end
is there. Checking thousands of training files this way takes seconds, where decoding them
(``read_image``) takes minutes; ``ppir.data.checks`` decodes only when asked to look closer.

Sizes and channel counts are those ``read_image`` will return (EXIF rotation applied for JPEG and
WebP; PNG palettes come out as RGB, gray+alpha as RGBA). A PNG must end with its IEND chunk and a
JPEG with its end-of-image marker: a file cut short by a failed copy or download is reported here,
although OpenCV decodes a truncated JPEG without complaint (the missing part comes out gray).
"""
import os
import struct
from dataclasses import dataclass

import numpy as np

from ..errors import ImageReadError
from .image_io import read_image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_START, JPEG_END = b"\xff\xd8", b"\xff\xd9"
# PNG colour type -> channels as read_image returns them (palette: RGB; gray + alpha: RGBA)
PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 4, 6: 4}
# PIL mode -> (channels, bits) as read_image returns them
PIL_MODES = {
    "1": (1, 8), "L": (1, 8), "P": (3, 8), "LA": (4, 8), "PA": (4, 8), "RGB": (3, 8), "RGBA": (4, 8),
    "CMYK": (3, 8), "YCbCr": (3, 8), "I;16": (1, 16), "I;16B": (1, 16), "I;16L": (1, 16), "I": (1, 16),
    "F": (1, 16),
}  # fmt: skip
ROTATING_ORIENTATIONS = (5, 6, 7, 8)  # EXIF orientations that swap width and height


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    channels: int  # 1, 3 or 4, as read_image returns
    bits: int  # 8 or 16

    @property
    def size(self):
        return f"{self.width}x{self.height}"


def probe_image(path):
    """An :class:`ImageInfo` from the file's header; ``ImageReadError`` (one line naming the file)
    for a missing, empty, unknown, damaged or truncated file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ImageReadError(f"{path}: no such file")
    size = os.path.getsize(path)
    if size == 0:
        raise ImageReadError(f"{path}: empty file")
    with open(path, "rb") as f:
        head = f.read(64)
        f.seek(max(0, size - 64))
        tail = f.read(64)
    if head.startswith(PNG_SIGNATURE):
        return _png_info(path, head, tail)
    if head.startswith(JPEG_START) and not tail.rstrip(b"\x00\r\n ").endswith(JPEG_END):
        raise ImageReadError(f"{path}: truncated JPEG (its end-of-image marker is missing)")
    return _pil_info(path)


def _png_info(path, head, tail):
    if len(head) < 29 or head[12:16] != b"IHDR":
        raise ImageReadError(f"{path}: damaged PNG header")
    width, height, bits, colour = struct.unpack(">IIBB", head[16:26])
    if colour not in PNG_CHANNELS or width == 0 or height == 0:
        raise ImageReadError(f"{path}: damaged PNG header (colour type {colour}, {width}x{height})")
    if b"IEND" not in tail:
        raise ImageReadError(f"{path}: truncated PNG (its IEND chunk is missing)")
    return ImageInfo(width, height, PNG_CHANNELS[colour], 16 if bits == 16 else 8)


def _pil_info(path):
    from PIL import Image, UnidentifiedImageError  # scikit-image's dependency; only needed here

    try:
        with Image.open(path) as img:
            width, height = img.size
            mode = img.mode
            orientation = img.getexif().get(0x0112, 1) if img.format in ("JPEG", "WEBP", "MPO") else 1
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return _decoded_info(path)  # e.g. 16-bit RGB TIFF, which PIL does not open but OpenCV does
    if mode not in PIL_MODES:
        return _decoded_info(path)
    if orientation in ROTATING_ORIENTATIONS:
        width, height = height, width
    channels, bits = PIL_MODES[mode]
    return ImageInfo(width, height, channels, bits)


def _decoded_info(path):
    img = read_image(path)  # raises the one-line ImageReadError when OpenCV cannot read it either
    return ImageInfo(img.shape[1], img.shape[0], img.shape[2], 16 if img.dtype == np.uint16 else 8)
