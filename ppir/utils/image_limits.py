"""How many pixels an image may have before it is decoded (the size comes from the header:
``image_io.image_size`` / ``read_image_header``).

A small file can declare a huge image (a "decompression bomb": a 110 KB PNG of 30000x30000), and
decoding it first allocates the whole image. So readers look at the header first and refuse an
image over the limit, in one line naming its size and how to raise the limit. The limit is
``DEFAULT_MAX_PIXELS`` unless ``PPIR_MAX_IMAGE_PIXELS`` says otherwise (the apps' ``--max_pixels``
sets it for their process).
"""
import os

from ..errors import ImageReadError, PpirError

DEFAULT_MAX_PIXELS = 200_000_000
MAX_PIXELS_ENV = "PPIR_MAX_IMAGE_PIXELS"


def parse_pixel_count(text):
    """``text`` as a positive whole number of pixels ('200000000', '200_000_000', '2e8'), or None."""
    text = str(text).strip().replace("_", "")
    try:
        value = int(float(text)) if "e" in text.lower() else int(text)
    except ValueError:
        return None
    return value if value > 0 else None


def max_image_pixels():
    """The pixel limit in force: ``PPIR_MAX_IMAGE_PIXELS`` (a positive integer) or the default."""
    text = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_PIXELS
    value = parse_pixel_count(text)
    if value is None:
        raise PpirError(f"{MAX_PIXELS_ENV}={os.environ[MAX_PIXELS_ENV]!r}: expected a positive number of pixels")
    return value


def check_pixels(width, height, name, limit=None):
    """Raise ``ImageReadError`` when a ``width`` x ``height`` image is over the limit."""
    limit = max_image_pixels() if limit is None else limit
    if width * height > limit:
        raise ImageReadError(
            f"{name}: {width}x{height} image ({_megapixels(width * height)}) is over the limit of "
            f"{_megapixels(limit)}; to read it anyway raise the limit with {MAX_PIXELS_ENV}=<pixels> "
            "(--max_pixels in the apps)"
        )


def _megapixels(pixels):
    return f"{pixels / 1e6:.0f} megapixels" if pixels >= 1e7 else f"{pixels / 1e6:.2g} megapixels"
