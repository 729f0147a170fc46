"""What every metric does before it measures: check the pair, crop the border, pick the channel.

Two crop styles exist because two families of scripts disagree:
- ``'symmetric'`` (BasicSR ``img[c:-c, c:-c]``): ``c`` pixels off every side.
- ``'matlab'`` (the RealSR ``evaluate_PSNR_SSIM.m``: ``img(c:end-c, c:end-c, :)`` with MATLAB's
  1-based inclusive indexing): ``c - 1`` pixels off the top/left and ``c`` off the bottom/right.
"""
import numpy as np

from .color import rgb_to_y

CHANNELS = ("rgb", "y")
CROP_STYLES = ("symmetric", "matlab")


def default_data_range(dtype):
    """The peak MATLAB's ``getrangefromclass`` gives: 255 for uint8, 65535 for uint16, 1 for floats."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        return float(np.iinfo(dtype).max)
    return 1.0


def check_pair(img, ref, data_range):
    """Raise a one-line ValueError unless ``img`` and ``ref`` can be compared."""
    img, ref = np.asarray(img), np.asarray(ref)
    if img.shape != ref.shape:
        raise ValueError(f"image shapes differ: {img.shape} vs reference {ref.shape}")
    if img.dtype != ref.dtype:
        raise ValueError(f"image dtypes differ: {img.dtype} vs reference {ref.dtype}; convert both to one type")
    if img.ndim not in (2, 3):
        raise ValueError(f"expected an HxW or HxWxC image, got shape {img.shape}")
    if not (np.issubdtype(img.dtype, np.integer) or np.issubdtype(img.dtype, np.floating)):
        raise ValueError(f"unsupported image dtype {img.dtype}; use uint8, uint16 or float")
    if data_range <= 0:
        raise ValueError(f"data_range must be positive, got {data_range}")
    if np.issubdtype(img.dtype, np.integer) and img.size:
        # Integer images above the peak mean the wrong data_range (e.g. uint16 scored with 255).
        peak = max(int(img.max()), int(ref.max()))
        if peak > data_range:
            raise ValueError(f"{img.dtype} pixel values reach {peak}, above data_range={data_range}; pass the right data_range")
    return img, ref


def crop_border(img, border, style="symmetric"):
    """Remove ``border`` pixels around an HxW(xC) image in the given crop style (see module doc)."""
    if style not in CROP_STYLES:
        raise ValueError(f"crop_style must be one of {CROP_STYLES}, got {style!r}")
    border = int(border)
    if border < 0:
        raise ValueError(f"crop_border must be >= 0, got {border}")
    if border == 0:
        return img
    start = border - 1 if style == "matlab" else border
    height, width = img.shape[:2]
    if start >= height - border or start >= width - border:
        raise ValueError(f"crop_border={border} leaves nothing of a {height}x{width} image")
    return img[start : height - border, start : width - border, ...]


def prepare(img, ref, crop=0, channel="rgb", data_range=255, crop_style="symmetric"):
    """Checked, cropped, channel-selected float64 copies of the pair: HxW for Y or gray, else HxWxC."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
    img, ref = check_pair(img, ref, data_range)
    img, ref = crop_border(img, crop, crop_style), crop_border(ref, crop, crop_style)
    if channel == "y":
        return rgb_to_y(img, data_range), rgb_to_y(ref, data_range)
    if img.ndim == 3 and img.shape[2] == 1:
        img, ref = img[:, :, 0], ref[:, :, 0]
    return img.astype(np.float64), ref.astype(np.float64)
