"""Building blocks shared by the ported networks: PyTorch-initialised convs, a PReLU whose
parameter is named like PyTorch's, and the input-size check every architecture does first.

Why PyTorch's initialisation: the official networks were tuned with PyTorch defaults
(kaiming-uniform with a=sqrt(5) for weights, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for biases,
0.25 for PReLU); Paddle's defaults differ, and training from scratch should start where the
papers started.
"""
import math

import paddle
from paddle import nn
import paddle.nn.functional as F

from . import resample


def torch_default_conv_init():
    """Weight initialiser equal to PyTorch's Conv2d default (uniform, bound 1/sqrt(fan_in))."""
    return nn.initializer.KaimingUniform(negative_slope=math.sqrt(5), nonlinearity="leaky_relu")


def conv2d(in_channels, out_channels, kernel_size, bias=False, stride=1, groups=1):
    """Conv2D with 'same' padding (k//2) and PyTorch's default initialisation."""
    bias_attr = False
    if bias:
        bound = 1.0 / math.sqrt(in_channels // groups * kernel_size * kernel_size)
        bias_attr = paddle.ParamAttr(initializer=nn.initializer.Uniform(-bound, bound))
    return nn.Conv2D(
        in_channels,
        out_channels,
        kernel_size,
        stride=stride,
        padding=kernel_size // 2,
        groups=groups,
        weight_attr=paddle.ParamAttr(initializer=torch_default_conv_init()),
        bias_attr=bias_attr,
    )


class PReLU(nn.Layer):
    """PReLU whose parameter is called ``weight`` (Paddle's own ``nn.PReLU`` calls it ``_weight``),
    so state-dict keys equal the official PyTorch ones (``...body.1.weight``) with no renaming."""

    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.weight = self.create_parameter(
            [num_parameters], default_initializer=nn.initializer.Constant(init)
        )

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.weight.shape[0]}"


class LeakyReLU(nn.Layer):
    """``nn.LeakyReLU`` with an export form, ``max(x, slope * x)`` (equal for 0 < slope < 1).

    Why: with Paddle 3.3, the ``leaky_relu`` op of an exported graph carries its slope in an
    attribute that paddle2onnx 2.1 converts to a denormal number (the ONNX model then computes
    ReLU, and NaNs downstream) and that Paddle Inference's conv+activation fusion pass crashes on
    (segfault). The export form has no such attribute; it is used inside
    ``resample.export_friendly()``, which every export runs under.
    """

    def __init__(self, negative_slope=0.01):
        super().__init__()
        if not 0 < negative_slope < 1:
            raise ValueError(f"LeakyReLU slope must be in (0, 1), got {negative_slope}")
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        if resample.exporting():
            return paddle.maximum(x, x * self.negative_slope)
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


def check_input(x, arch_name, in_channels, size_multiple):
    """Raise one clear ValueError for a wrong input layout or an H/W the network cannot handle.

    Done before any work so the user sees the real cause, not a shape mismatch deep inside.
    Dimensions unknown at trace time (``paddle.jit.to_static`` with dynamic shapes gives -1)
    are not checked.
    """
    shape = list(x.shape)
    if len(shape) != 4:
        raise ValueError(f"{arch_name} expects an NCHW tensor, got shape {shape}")
    channels, height, width = shape[1:]
    if isinstance(channels, int) and channels >= 0 and channels != in_channels:
        raise ValueError(f"{arch_name} expects {in_channels} input channels, got {channels}")
    known = [d for d in (height, width) if isinstance(d, int) and d >= 0]
    if any(d % size_multiple for d in known):
        raise ValueError(
            f"{arch_name} needs height and width divisible by {size_multiple}, "
            f"got {height}x{width}; pad the input (predictors do this)"
        )
