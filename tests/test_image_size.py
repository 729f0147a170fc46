"""``image_size``: width and height from an image file's header, without decoding (the service
refuses too large images with it before decoding them)."""
import io

import cv2
import numpy as np
import pytest
from PIL import Image

from ppir.utils.image_io import decode_image, encode_image, image_size

RGB = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)


def pil_bytes(img, fmt, **options):
    out = io.BytesIO()
    Image.fromarray(img).save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".tif", ".webp", ".ppm", ".pgm"])
def test_size_from_the_header_is_the_decoded_size(ext):
    img = RGB[:, :, :1] if ext == ".pgm" else RGB
    data = encode_image(img, ext).tobytes()
    assert image_size(data) == (53, 37)
    assert decode_image(data).shape[:2] == (37, 53)


@pytest.mark.parametrize("data", [
    pil_bytes(RGB, "JPEG", progressive=True),
    pil_bytes(RGB, "WEBP", lossless=True),
    pil_bytes(np.dstack([RGB, RGB[:, :, :1]]), "WEBP"),  # extended (VP8X) header
    pil_bytes(RGB, "TIFF", compression="tiff_lzw"),
    cv2.imencode(".png", RGB.astype(np.uint16) * 257)[1].tobytes(),
    b"P6\n# a comment\n53 37\n255\n" + RGB.tobytes(),
], ids=["progressive-jpeg", "lossless-webp", "vp8x-webp", "lzw-tiff", "16-bit-png", "ppm-comment"])
def test_other_encoders_and_variants(data):
    assert image_size(data) == (53, 37)


def test_a_small_file_declaring_a_huge_image_is_measured_without_decoding():
    flat = encode_image(np.zeros((4000, 6000, 3), np.uint8), ".png").tobytes()
    assert len(flat) < 200_000 and image_size(flat) == (6000, 4000)


@pytest.mark.parametrize("data", [b"", b"hello world", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0\x00\x10JFIF",
                                  b"GIF89a\x10\x00\x10\x00", b"RIFF\x00\x00\x00\x00WEBPVP8 "])
def test_unknown_or_cut_headers_are_none(data):
    assert image_size(data) is None
