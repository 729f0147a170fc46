"""SSIM in the three flavours the papers' numbers were computed with.

All share Wang et al.'s formula with K = (0.01, 0.03) and L = ``data_range``; they differ in the
window, its border handling and how the map is averaged:

``'wang'``      Zhou Wang's ``ssim_index.m`` (deraining, RealSR): 11x11 Gaussian, sigma 1.5,
                normalised, 'valid' region only, mean of the map, channels scored separately and
                averaged (BasicSR/MMagic do the same). Equals ``skimage.metrics.structural_similarity(
                gaussian_weights=True, use_sample_covariance=False)``: skimage filters with
                'reflect' but then crops (win - 1) // 2 = 5 pixels, which leaves exactly the valid
                region.
``'matlab3d'``  MATLAB's built-in ``ssim`` (GoPro, HIDE, SIDD, LOL, FiveK): an HxWx3 array is a
                3-D volume, smoothed by a separable 3-D Gaussian (sigma 1.5, 2*ceil(3*1.5)+1 = 11
                taps per axis, channel axis included) with replicate padding, 'same' size, mean
                of the whole map. An HxW image gets the 2-D version.
``'skimage'``   ``structural_similarity`` with its defaults (DPDD's script): 7x7 uniform window,
                sample covariance (N / (N - 1)), valid region, channels averaged.
"""
import numpy as np
from scipy import ndimage

from .preprocess import prepare

K1, K2 = 0.01, 0.03
GAUSSIAN_SIGMA = 1.5
GAUSSIAN_RADIUS = 5  # 11 taps, which every implementation above ends up with for sigma 1.5
UNIFORM_SIZE = 7
SPATIAL_AXES = (0, 1)  # channels, when present, are never mixed by the per-channel modes
SSIM_MODES = ("wang", "matlab3d", "skimage")


def _gaussian_valid(a):
    """2-D Gaussian per channel, keeping only the pixels whose window lies inside the image."""
    r = GAUSSIAN_RADIUS
    smoothed = ndimage.gaussian_filter(a, GAUSSIAN_SIGMA, radius=r, axes=SPATIAL_AXES)
    return smoothed[r:-r, r:-r, ...]


def _gaussian_replicate_volume(a):
    """Gaussian over every axis (channels too), replicate padding, same size: MATLAB imgaussfilt3."""
    return ndimage.gaussian_filter(a, GAUSSIAN_SIGMA, radius=GAUSSIAN_RADIUS, mode="nearest")


def _uniform_valid(a):
    r = UNIFORM_SIZE // 2
    smoothed = ndimage.uniform_filter(a, UNIFORM_SIZE, axes=SPATIAL_AXES)
    return smoothed[r:-r, r:-r, ...]


# mode -> (window smoother, covariance normalisation, smallest image side it needs)
_WINDOWS = {
    "wang": (_gaussian_valid, 1.0, 2 * GAUSSIAN_RADIUS + 1),
    "matlab3d": (_gaussian_replicate_volume, 1.0, 1),
    "skimage": (_uniform_valid, UNIFORM_SIZE**2 / (UNIFORM_SIZE**2 - 1), UNIFORM_SIZE),
}


def ssim_map(x, y, data_range, mode="wang"):
    """The SSIM map of two prepared float64 arrays (HxW or HxWxC); 'valid' modes return it cropped."""
    if mode not in SSIM_MODES:
        raise ValueError(f"ssim mode must be one of {SSIM_MODES}, got {mode!r}")
    smooth, cov_norm, min_side = _WINDOWS[mode]
    if min(x.shape[:2]) < min_side:
        raise ValueError(f"ssim mode {mode!r} needs images of at least {min_side}x{min_side}, got {x.shape[:2]}")
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    mu_x, mu_y = smooth(x), smooth(y)
    var_x = cov_norm * (smooth(x * x) - mu_x**2)
    var_y = cov_norm * (smooth(y * y) - mu_y**2)
    cov_xy = cov_norm * (smooth(x * y) - mu_x * mu_y)
    numerator = (2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)
    denominator = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    return numerator / denominator


def ssim(img, ref, crop_border=0, channel="rgb", mode="wang", data_range=255, crop_style="symmetric"):
    """Mean SSIM of ``img`` against ``ref`` (HxW or HxWxC; uint8, uint16 or float), see module doc.

    Every mode's result is the mean of its map: for the per-channel modes every channel has the
    same number of pixels, so that is also the mean of the per-channel means.
    """
    x, y = prepare(img, ref, crop_border, channel, data_range, crop_style)
    return float(np.mean(ssim_map(x, y, data_range, mode)))
