"""Reading and writing photos: EXIF orientation on real files, bit depth, channels, bad files."""
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from ppir.errors import ImageReadError
from ppir.utils.image_io import from_float, read_image, to_float, write_image


@pytest.fixture(scope="module")
def photo():
    """A 30x20 RGB picture with no symmetry, so every flip/rotation is distinguishable."""
    rng = np.random.default_rng(0)
    base = np.linspace(0, 255, 30 * 20 * 3).reshape(30, 20, 3)
    return np.clip(base + rng.integers(0, 40, base.shape), 0, 255).astype(np.uint8)


def pil_upright(path):
    return np.asarray(ImageOps.exif_transpose(Image.open(path)))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_orientation_matches_pillow(tmp_path, photo, orientation):
    path = tmp_path / f"o{orientation}.jpg"
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(photo).save(path, exif=exif, quality=95)
    got = read_image(path)
    want = pil_upright(path)
    assert got.shape == want.shape
    assert np.abs(got.astype(int) - want).max() <= 1  # both decode the same JPEG


def big_endian_exif_segment(orientation):
    """An APP1 segment written by hand: 'Exif\\0\\0' + big-endian TIFF header + one IFD entry."""
    ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    tiff = b"MM" + struct.pack(">HI", 42, 8) + ifd
    payload = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def test_hand_written_big_endian_app1_after_jfif(tmp_path, photo):
    ok, buf = cv2.imencode(".jpg", photo[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 100])
    raw = buf.tobytes()
    assert raw[2:4] == b"\xff\xe0"  # cv2 writes a JFIF APP0 first; our segment goes after it
    app0_end = 4 + int.from_bytes(raw[4:6], "big")
    path = tmp_path / "mm.jpg"
    path.write_bytes(raw[:app0_end] + big_endian_exif_segment(6) + raw[app0_end:])
    plain = read_image(path, apply_exif=False)
    upright = read_image(path)
    assert upright.shape == (20, 30, 3)
    np.testing.assert_array_equal(upright, np.rot90(plain, -1))  # 6 = rotate 90 degrees clockwise
    np.testing.assert_array_equal(upright, pil_upright(path))


def png_with_exif_chunk(png_bytes, orientation):
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack("<I", 0)
    data = b"II" + struct.pack("<HI", 42, 8) + ifd
    chunk = struct.pack(">I", len(data)) + b"eXIf" + data + struct.pack(">I", zlib.crc32(b"eXIf" + data))
    return png_bytes[:33] + chunk + png_bytes[33:]  # right after IHDR (8 signature + 25 IHDR)


def test_png_exif_chunk_on_16_bit_image(tmp_path, photo):
    deep = photo.astype(np.uint16) * 257 + 3
    ok, buf = cv2.imencode(".png", deep[:, :, ::-1])
    path = tmp_path / "deep.png"
    path.write_bytes(png_with_exif_chunk(buf.tobytes(), 8))
    got = read_image(path)
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, np.rot90(deep, 1))  # 8 = rotate 90 degrees anticlockwise


def test_webp_exif_chunk(tmp_path, photo):
    path = tmp_path / "o3.webp"
    exif = Image.Exif()
    exif[0x0112] = 3
    Image.fromarray(photo).save(path, exif=exif, lossless=True)
    np.testing.assert_array_equal(read_image(path), photo[::-1, ::-1])
    np.testing.assert_array_equal(read_image(path), pil_upright(path))


def test_tiff_orientation_is_applied_once(tmp_path, photo):
    path = tmp_path / "o6.tif"
    Image.fromarray(photo).save(path, tiffinfo={0x0112: 6})
    np.testing.assert_array_equal(read_image(path), pil_upright(path))


def test_gray_rgba_and_16_bit_round_trip(tmp_path, photo):
    gray = photo[:, :, 0:1]
    rgba = np.dstack([photo, np.arange(600, dtype=np.uint8).reshape(30, 20)])
    deep = photo.astype(np.uint16) * 257
    for name, img in (("g.png", gray), ("a.png", rgba), ("d.png", deep), ("d.tif", deep)):
        path = write_image(tmp_path / name, img)
        back = read_image(path)
        assert back.dtype == img.dtype and back.shape == img.shape, name
        np.testing.assert_array_equal(back, img)


def test_float_conversions_round_not_truncate():
    x = np.array([0.0, 0.999 / 255, 1.5 / 255, 254.6 / 255, 1.2], dtype=np.float32)
    assert from_float(x).tolist() == [0, 1, 2, 255, 255]
    assert from_float(to_float(np.array([0, 40000, 65535], np.uint16)), np.uint16).tolist() == [0, 40000, 65535]


def test_bad_files_raise_one_line_errors(tmp_path, photo):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    write_image(tmp_path / "whole.png", photo)
    cut = tmp_path / "cut.png"
    cut.write_bytes((tmp_path / "whole.png").read_bytes()[:-20])
    cases = {
        tmp_path / "missing.png": "no such file",
        empty: "empty file",
        text: "not an image",
        cut: "truncated",
        tmp_path: "is a directory",
    }
    for path, words in cases.items():
        with pytest.raises(ImageReadError) as err:
            read_image(path)
        assert words in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)
