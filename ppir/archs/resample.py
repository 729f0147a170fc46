"""Bilinear x2 / x0.5 resampling (half-pixel centres, align_corners=False), in two equal forms.

'interp' (default) calls ``paddle.nn.functional.interpolate``. 'conv' writes the same maths with
ops that Paddle Inference runs under oneDNN, whose ``bilinear_interp`` kernel crashes:

* x0.5 bilinear on an even size samples exactly between two pixels, i.e. ``avg_pool2d(2)``.
  Both modes use the pool: it is exact for the even sizes our networks see, and odd sizes are
  rejected rather than silently resampled differently.
* x2 bilinear: output pixel 2i lies at input coordinate i-1/4, pixel 2i+1 at i+1/4, so each output
  is 3/4 of the nearest input plus 1/4 of the next one over, with the border pixel repeated
  (PyTorch and Paddle clamp the coordinate). That is a replicate pad by 1 followed by a depthwise
  transposed conv with stride 2 and separable taps [1/4, 3/4, 3/4, 1/4]; the transposed conv's
  padding of 3 crops the 3 surplus pixels on each side.

The mode is a switch read each time a network runs, so ``paddle.jit.to_static`` bakes in whichever
mode is active while it traces. It lives in a shared object, not a plain global: dy2static runs
converted functions with a copy of their module's globals taken at first conversion, so a
rebound global would go unseen. Trace a fresh network per mode: a layer that was already
converted reuses its cached program whatever the mode::

    with resample.export_friendly():
        static_net = paddle.jit.to_static(net, input_spec=...)
        paddle.jit.save(static_net, path)
"""
import contextlib

import numpy as np
import paddle
from paddle import nn
import paddle.nn.functional as F

MODES = ("interp", "conv")


class _Switch:
    mode = "interp"


_switch = _Switch()

# Separable x2 bilinear taps; the 2-D kernel is their outer product.
_UP_TAPS = np.array([0.25, 0.75, 0.75, 0.25], dtype=np.float64)
_UP_KERNEL_2D = np.outer(_UP_TAPS, _UP_TAPS)


def get_mode():
    return _switch.mode


def set_mode(mode):
    """Select 'interp' or 'conv' for every later resampling call; returns the previous mode."""
    if mode not in MODES:
        raise ValueError(f"unknown resample mode {mode!r}; choose one of {', '.join(MODES)}")
    previous, _switch.mode = _switch.mode, mode
    return previous


@contextlib.contextmanager
def use_mode(mode):
    """Context manager: run the block in ``mode``, then restore the previous mode."""
    previous = set_mode(mode)
    try:
        yield
    finally:
        set_mode(previous)


def export_friendly():
    """The 'conv' form, for exporting models that Paddle Inference runs with oneDNN."""
    return use_mode("conv")


def exporting():
    """True inside ``export_friendly()``: other layers with an export form follow it too
    (``common.LeakyReLU``)."""
    return _switch.mode == "conv"


def _check_even(x, what):
    height, width = x.shape[2], x.shape[3]
    if any(isinstance(d, int) and d >= 0 and d % 2 for d in (height, width)):
        raise ValueError(f"{what} needs even height and width, got {height}x{width}")


def downsample_half(x):
    """Bilinear x0.5 of an NCHW tensor with even H and W (== 2x2 average pooling)."""
    _check_even(x, "downsample_half")
    return F.avg_pool2d(x, kernel_size=2, stride=2)


def _upsample_double_conv(x):
    channels = x.shape[1]
    kernel = np.broadcast_to(_UP_KERNEL_2D, (channels, 1, 4, 4))
    weight = paddle.to_tensor(kernel.astype(np.float32)).astype(x.dtype)
    padded = F.pad(x, [1, 1, 1, 1], mode="replicate")
    return F.conv2d_transpose(padded, weight, stride=2, padding=3, groups=channels)


def upsample_double(x):
    """Bilinear x2 of an NCHW tensor (align_corners=False), in the current mode."""
    if _switch.mode == "conv":
        return _upsample_double_conv(x)
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


class DownsampleHalf(nn.Layer):
    """Layer form of ``downsample_half`` (no parameters), for use inside ``nn.Sequential``."""

    def forward(self, x):
        return downsample_half(x)


class UpsampleDouble(nn.Layer):
    """Layer form of ``upsample_double`` (no parameters); follows the current mode."""

    def forward(self, x):
        return upsample_double(x)
