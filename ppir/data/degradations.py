"""Synthetic degradations of clean float RGB images in [0, 1] (HxWx3 float32).

Each degradation draws its parameters from ``rng`` (NumPy ``RandomState`` API). A parameter is a
number (fixed) or a ``[low, high]`` pair (drawn uniformly per image). ``margin`` says how many
border pixels a degradation needs around a crop for its result there to be right (blurs read
their neighbours), so callers can degrade a slightly larger crop and cut the margin off.
"""
import math

import cv2
import numpy as np

from ..errors import ConfigError

_SUPERSAMPLE = 8  # motion kernels: sub-pixel samples per pixel and axis


def draw(value, rng):
    """A fixed number, or a uniform draw from ``[low, high]``."""
    if np.isscalar(value):
        return float(value)
    low, high = value
    return float(rng.uniform(low, high))


def upper(value):
    return float(value) if np.isscalar(value) else float(max(value))


def gaussian_noise(img, rng, sigma=25):
    """Additive white Gaussian noise; ``sigma`` on the 0-255 scale."""
    std = draw(sigma, rng) / 255.0
    return img + (rng.standard_normal(img.shape) * std).astype(np.float32)


def poisson_noise(img, rng, peak=(10, 100)):
    """Shot noise: photon counts with mean ``img·peak`` (lower ``peak`` = darker, noisier)."""
    scale = draw(peak, rng)
    return (rng.poisson(np.clip(img, 0.0, 1.0) * scale) / scale).astype(np.float32)


def motion_kernel(length, angle_degrees):
    """A normalised straight-line kernel of ``length`` pixels at ``angle_degrees`` (odd size).

    The line is one pixel wide and centred on the middle pixel; each pixel's weight is the share
    of its 8x8 sub-pixel grid inside the line, so slanted lines are anti-aliased and the kernel
    stays point-symmetric (its centre of mass is the middle pixel: no shift between a blurred
    image and its target).
    """
    size = int(math.ceil(length)) | 1
    offsets = (np.arange(size * _SUPERSAMPLE) + 0.5) / _SUPERSAMPLE - size / 2.0
    ys, xs = np.meshgrid(offsets, offsets, indexing="ij")
    cos, sin = math.cos(math.radians(angle_degrees)), math.sin(math.radians(angle_degrees))
    inside = (np.abs(xs * cos + ys * sin) <= length / 2.0) & (np.abs(ys * cos - xs * sin) <= 0.5)
    kernel = inside.reshape(size, _SUPERSAMPLE, size, _SUPERSAMPLE).mean(axis=(1, 3)).astype(np.float32)
    return kernel / kernel.sum()


def disk_kernel(radius):
    """A normalised disk (out-of-focus blur) with an anti-aliased edge."""
    half = int(math.ceil(radius))
    ys, xs = np.mgrid[-half : half + 1, -half : half + 1]
    kernel = np.clip(radius + 0.5 - np.hypot(xs, ys), 0.0, 1.0).astype(np.float32)
    return kernel / kernel.sum()


def _convolve(img, kernel):
    return cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT_101)


def motion_blur(img, rng, length=(5, 21)):
    """Blur along a random straight line of ``length`` pixels in a uniformly random direction."""
    return _convolve(img, motion_kernel(draw(length, rng), rng.uniform(0.0, 180.0)))


def defocus_blur(img, rng, radius=(1.0, 4.0)):
    return _convolve(img, disk_kernel(draw(radius, rng)))


def any_blur(img, rng, length=(5, 21), radius=(1.0, 4.0)):
    """Motion or defocus blur, each with probability 1/2."""
    return motion_blur(img, rng, length) if rng.rand() < 0.5 else defocus_blur(img, rng, radius)


def rain_streaks(img, rng, amount=(100, 400), length=(8, 24), angle=(-20, 20), intensity=(0.3, 0.8)):
    """A layer of thin bright streaks, screen-blended over the image (``1-(1-img)(1-rain)``).

    ``amount`` is streaks per 256x256 pixels; ``angle`` the fall direction in degrees from
    vertical, drawn once per image (each streak deviates by about 2 degrees); ``length`` in
    pixels and ``intensity`` in [0, 1] are drawn per streak.
    """
    height, width = img.shape[:2]
    count = int(round(draw(amount, rng) * height * width / 65536.0))
    direction = np.radians(draw(angle, rng) + rng.normal(0.0, 2.0, count))
    lengths = rng.uniform(*_range(length), count)
    levels = rng.uniform(*_range(intensity), count)
    starts = np.stack([rng.uniform(0, width, count), rng.uniform(0, height, count)], axis=1)
    ends = starts + np.stack([np.sin(direction), np.cos(direction)], axis=1) * lengths[:, None]
    layer = np.zeros((height, width), dtype=np.uint8)
    for start, end, level in zip(starts.astype(int), ends.astype(int), levels):
        cv2.line(layer, tuple(map(int, start)), tuple(map(int, end)), int(255 * level), 1, cv2.LINE_AA)
    rain = cv2.GaussianBlur(layer.astype(np.float32) / 255.0, (0, 0), 0.6)[:, :, None]
    return img + rain * (1.0 - img)


def _range(value):
    return (value, value) if np.isscalar(value) else tuple(value)


def _no_margin(options):
    return 0


def _motion_margin(options):
    return int(upper(options["motion_length"])) // 2 + 1


def _defocus_margin(options):
    return int(math.ceil(upper(options["defocus_radius"]))) + 1


def _blur_margin(options):
    return max(_motion_margin(options), _defocus_margin(options))


# name -> (function, {function argument: dataset option}, margin from the dataset options)
DEGRADATIONS = {
    "noise": (gaussian_noise, {"sigma": "sigma"}, _no_margin),
    "poisson": (poisson_noise, {"peak": "poisson_peak"}, _no_margin),
    "motion_blur": (motion_blur, {"length": "motion_length"}, _motion_margin),
    "defocus_blur": (defocus_blur, {"radius": "defocus_radius"}, _defocus_margin),
    "blur": (any_blur, {"length": "motion_length", "radius": "defocus_radius"}, _blur_margin),
    "rain": (
        rain_streaks,
        {"amount": "rain_amount", "length": "rain_length", "angle": "rain_angle", "intensity": "rain_intensity"},
        _no_margin,
    ),
}


class Degrader:
    """Applies a sequence of named degradations with options taken from a dict, then clips."""

    def __init__(self, names, options):
        self.names = [names] if isinstance(names, str) else list(names)
        unknown = [n for n in self.names if n not in DEGRADATIONS]
        if unknown or not self.names:
            raise ConfigError(
                f"unknown degradation {unknown or self.names!r}; choose from {', '.join(DEGRADATIONS)}"
            )
        self.steps = [
            (DEGRADATIONS[n][0], {arg: options[key] for arg, key in DEGRADATIONS[n][1].items()})
            for n in self.names
        ]
        self.margin = sum(DEGRADATIONS[n][2](options) for n in self.names)

    def __call__(self, img, rng):
        for function, kwargs in self.steps:
            img = function(img, rng, **kwargs)
        return np.clip(img, 0.0, 1.0).astype(np.float32)
