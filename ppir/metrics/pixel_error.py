"""Peak signal-to-noise ratio, as MATLAB's ``psnr`` and BasicSR compute it (float64 MSE)."""
import numpy as np

from .preprocess import prepare


def psnr_from_mse(mse, data_range):
    """10 log10(L^2 / mse); ``inf`` for identical images, like MATLAB and skimage."""
    if mse == 0:
        return float("inf")
    return float(10.0 * np.log10(data_range**2 / mse))


def psnr(img, ref, crop_border=0, channel="rgb", data_range=255, crop_style="symmetric"):
    """PSNR in dB of ``img`` against ``ref`` (HxW or HxWxC; uint8, uint16 or float).

    ``crop_border`` pixels are removed first (``crop_style`` 'symmetric' or 'matlab', see
    ``ppir.metrics.preprocess``); ``channel='y'`` scores MATLAB's BT.601 luma. The MSE is taken
    over every remaining pixel and channel together.
    """
    x, y = prepare(img, ref, crop_border, channel, data_range, crop_style)
    return psnr_from_mse(np.mean((x - y) ** 2), data_range)


def mae(img, ref, crop_border=0, channel="rgb", data_range=255, crop_style="symmetric"):
    """Mean absolute error as a fraction of ``data_range`` (DPDD reports it on the [0, 1] scale)."""
    x, y = prepare(img, ref, crop_border, channel, data_range, crop_style)
    return float(np.mean(np.abs(x - y)) / data_range)
