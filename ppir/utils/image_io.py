"""Reading and writing photos the way restoration needs them: RGB channel order, 8 or 16 bit kept,
EXIF orientation applied, alpha kept apart, and a one-line ``ImageReadError`` for anything else.
"""
import os
import re

import cv2
import numpy as np

from ..errors import ImageReadError, ImageWriteError
from .image_limits import DEFAULT_MAX_PIXELS, MAX_PIXELS_ENV, check_pixels, max_image_pixels  # noqa: F401

HEADER_BYTES = 1 << 20  # JPEG frame headers come after EXIF/ICC segments; 1 MiB covers them

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def is_image_file(path):
    return str(path).lower().endswith(IMAGE_EXTENSIONS)


def read_image(path, apply_exif=True, max_pixels=None):
    """Read ``path`` as an HxWxC array in RGB(A) order with its own dtype (uint8 or uint16).

    Grayscale files come back HxWx1. EXIF orientation is applied here (JPEG, PNG, WebP): cv2 only
    applies it without IMREAD_UNCHANGED, and that flag is what keeps 16 bit and alpha. An image
    over ``max_pixels`` (default: ``max_image_pixels()``) is refused from its header, undecoded.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ImageReadError(f"{path}: no such file")
    if os.path.isdir(path):
        raise ImageReadError(f"{path}: is a directory, not an image")
    if os.path.getsize(path) == 0:
        raise ImageReadError(f"{path}: empty file")
    # fromfile + imdecode also handles non-ASCII paths
    return decode_image(np.fromfile(path, dtype=np.uint8), path, apply_exif, max_pixels)


def decode_image(data, name="image", apply_exif=True, max_pixels=None):
    """``read_image`` for the bytes of an image file (``bytes`` or a uint8 array); ``name`` is
    what error messages call it."""
    data = np.frombuffer(data, dtype=np.uint8) if isinstance(data, (bytes, bytearray, memoryview)) else data
    if data.size == 0:
        raise ImageReadError(f"{name}: empty file")
    size = image_size(data)
    if size is not None:  # a decompression bomb is refused before it is decoded
        check_pixels(*size, name, limit=max_pixels)
    try:
        img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    except cv2.error as err:  # e.g. OpenCV's own size limit: its assertion text is no message
        raise ImageReadError(f"{name}: cannot be decoded ({_cv2_reason(err)})") from None
    if img is None:
        raise ImageReadError(f"{name}: not an image, or a truncated/corrupt one")
    if img.dtype not in (np.uint8, np.uint16):
        if img.dtype == np.float32 or img.dtype == np.float64:
            img = np.clip(img, 0, 1)
            img = np.round(img * 65535).astype(np.uint16)
        else:
            raise ImageReadError(f"{name}: unsupported pixel type {img.dtype}")
    if img.ndim == 2:
        img = img[:, :, None]
    elif img.shape[2] == 3:
        img = img[:, :, ::-1]
    elif img.shape[2] == 4:
        img = img[:, :, [2, 1, 0, 3]]
    elif img.shape[2] != 1:
        raise ImageReadError(f"{name}: {img.shape[2]} channels; expected 1 (gray), 3 (RGB) or 4 (RGBA)")
    if apply_exif:
        img = _apply_exif_orientation(data, img)
    return np.ascontiguousarray(img)


def read_image_header(path):
    """(width, height) of an image file from its header, read without decoding (see
    ``image_size``), or None for a format whose header is not read here."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(HEADER_BYTES)
    size = image_size(head)
    if size is None and head[:2] == b"\xff\xd8" and len(head) == HEADER_BYTES:
        size = image_size(np.fromfile(path, dtype=np.uint8))  # a JPEG frame header past the first MiB
    return size


def _cv2_reason(err):
    """What a cv2.error means, without OpenCV's source location and assertion text."""
    text = " ".join(str(err).split())
    if "CV_IO_MAX_IMAGE_PIXELS" in text:
        return "over OpenCV's own size limit, which the CV_IO_MAX_IMAGE_PIXELS environment variable raises"
    match = re.search(r"\(-?(\d+):([^)]*)\)", text)
    return f"OpenCV error {match.group(1)}: {match.group(2).strip().lower()}" if match else "OpenCV error"


def image_size(data):
    """(width, height) read from the header of an image file's bytes, without decoding it, or
    None when the format is not one of PNG, JPEG, BMP, TIFF, WebP, PPM/PGM or the header is cut.

    For size limits decided before decoding (a small file may declare a huge image)."""
    raw = memoryview(data).cast("B") if not isinstance(data, np.ndarray) else memoryview(data.reshape(-1))
    head = bytes(raw[:32])
    try:
        if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
            return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        if head[:2] == b"\xff\xd8":
            return _jpeg_size(raw)
        if head[:2] == b"BM" and len(head) >= 26:
            return int.from_bytes(head[18:22], "little", signed=True), abs(int.from_bytes(head[22:26], "little", signed=True))
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return _webp_size(head)
        if head[:4] in (b"II*\x00", b"MM\x00*"):
            return _tiff_size(bytes(raw))
        if head[:1] == b"P" and head[1:2] in b"123456" and len(head) >= 2:
            return _pnm_size(bytes(raw[:1024]))
    except (IndexError, ValueError):
        return None
    return None


def _valid(width, height):
    return (width, height) if width > 0 and height > 0 else None


def _jpeg_size(raw):
    """From the first start-of-frame marker (SOF0-SOF15 but DHT, JPG, DAC)."""
    for marker, pos, _ in _jpeg_segments(raw):
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and pos + 9 <= len(raw):
            height = int.from_bytes(raw[pos + 5 : pos + 7], "big")
            return _valid(int.from_bytes(raw[pos + 7 : pos + 9], "big"), height)
    return None


def _webp_size(head):
    kind = head[12:16]
    if kind == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        return _valid(int.from_bytes(head[26:28], "little") & 0x3FFF, int.from_bytes(head[28:30], "little") & 0x3FFF)
    if kind == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return _valid((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if kind == b"VP8X":
        return _valid(int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1)
    return None


def _tiff_size(tiff):
    """ImageWidth (256) and ImageLength (257) of the first IFD."""
    order = "little" if tiff[:2] == b"II" else "big"
    ifd = int.from_bytes(tiff[4:8], order)
    count = int.from_bytes(tiff[ifd : ifd + 2], order)
    found = {}
    for i in range(count):
        entry = tiff[ifd + 2 + 12 * i : ifd + 14 + 12 * i]
        if len(entry) < 12:
            break
        tag, kind = int.from_bytes(entry[0:2], order), int.from_bytes(entry[2:4], order)
        if tag in (256, 257):
            found[tag] = int.from_bytes(entry[8:10] if kind == 3 else entry[8:12], order)
    return _valid(found[256], found[257]) if len(found) == 2 else None


def _pnm_size(head):
    """Width and height of a PBM/PGM/PPM header (comments allowed)."""
    fields = []
    for line in head[2:].split(b"\n"):
        fields += line.split(b"#")[0].split()
        if len(fields) >= 2:
            return _valid(int(fields[0]), int(fields[1]))
    return None


def _apply_exif_orientation(raw, img):
    orientation = _exif_orientation(memoryview(raw))
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


def _exif_orientation(raw):
    """Orientation tag (1-8) from the EXIF block of a JPEG, PNG or WebP file, or 1 when absent.

    cv2 ignores EXIF for these formats under IMREAD_UNCHANGED, which we need to keep 16 bit and
    alpha. TIFF is left alone: cv2 applies its orientation tag itself, even then.
    """
    if bytes(raw[:2]) == b"\xff\xd8":
        tiff = _jpeg_exif(raw)
    elif bytes(raw[:8]) == b"\x89PNG\r\n\x1a\n":
        tiff = _png_exif(raw)
    elif bytes(raw[:4]) == b"RIFF" and bytes(raw[8:12]) == b"WEBP":
        tiff = _webp_exif(raw)
    else:
        return 1
    return _tiff_orientation(bytes(tiff)) if tiff is not None else 1


def _strip_exif_header(block):
    return block[6:] if bytes(block[:6]) == b"Exif\x00\x00" else block


def _jpeg_segments(raw):
    """(marker, position, length) of each JPEG header segment, up to the image data."""
    pos = 2
    while pos + 4 <= len(raw):
        if raw[pos] != 0xFF:
            return
        marker = raw[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end of image: the header is over
            return
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            pos += 2
            continue
        length = int.from_bytes(raw[pos + 2 : pos + 4], "big")
        yield marker, pos, length
        pos += 2 + length


def _jpeg_exif(raw):
    """The TIFF bytes of the first APP1 'Exif' segment before the image data."""
    for marker, pos, length in _jpeg_segments(raw):
        if marker == 0xE1 and bytes(raw[pos + 4 : pos + 10]) == b"Exif\x00\x00":
            return raw[pos + 10 : pos + 2 + length]
    return None


def _png_exif(raw):
    """The payload of the PNG 'eXIf' chunk (before or after the image data)."""
    pos = 8
    while pos + 8 <= len(raw):
        length = int.from_bytes(raw[pos : pos + 4], "big")
        kind = bytes(raw[pos + 4 : pos + 8])
        if kind == b"eXIf":
            return _strip_exif_header(raw[pos + 8 : pos + 8 + length])
        if kind == b"IEND":
            return None
        pos += 12 + length  # length, type, data, crc
    return None


def _webp_exif(raw):
    """The payload of the WebP 'EXIF' RIFF chunk."""
    pos = 12
    while pos + 8 <= len(raw):
        kind = bytes(raw[pos : pos + 4])
        length = int.from_bytes(raw[pos + 4 : pos + 8], "little")
        if kind == b"EXIF":
            return _strip_exif_header(raw[pos + 8 : pos + 8 + length])
        pos += 8 + length + (length & 1)  # chunks are padded to even sizes
    return None


def _tiff_orientation(tiff):
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
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


def encode_image(img, ext=".png", name="image"):
    """The bytes of an HxWxC (C in 1, 3, 4; RGB(A) order) uint8/uint16 array encoded as ``ext``."""
    if img.ndim == 3 and img.shape[2] == 3:
        img = img[:, :, ::-1]
    elif img.ndim == 3 and img.shape[2] == 4:
        img = img[:, :, [2, 1, 0, 3]]
    elif img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    try:
        ok, buf = cv2.imencode(ext, np.ascontiguousarray(img))
    except cv2.error as err:
        raise ImageReadError(f"{name}: could not encode image as {ext} ({_cv2_reason(err)})") from None
    if not ok:
        raise ImageReadError(f"{name}: could not encode image as {ext}")
    return buf


def write_image(path, img):
    """Write an HxWxC (C in 1, 3, 4; RGB(A) order) uint8/uint16 array; the format follows the suffix.

    Atomic: the bytes go to ``<path>.tmp``, renamed over ``path`` when complete; the temporary
    file is removed whatever stops the write (a full disk, Ctrl-C). A failure to write is an
    ``ImageWriteError`` naming the file."""
    path = os.fspath(path)
    buf = encode_image(img, os.path.splitext(path)[1] or ".png", path)
    tmp = path + ".tmp"
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        buf.tofile(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise ImageWriteError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
