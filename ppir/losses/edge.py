"""MPRNet's edge loss: Charbonnier distance between Laplacian-pyramid detail layers.

The detail layer of x is x - G(up(G(x))), where G is a 5x5 binomial-like Gaussian
(k = [.05, .25, .4, .25, .05], kernel k^T k, depthwise, replicate padding 2), and up() keeps
every second pixel of G(x) in each direction, times 4, and puts zeros elsewhere. The zero
insertion is a multiplication by a fixed 0/1 mask, so no in-place assignment touches a tensor
that needs a gradient.
"""
import numpy as np
import paddle
import paddle.nn.functional as F

from ..registry import LOSSES
from .charbonnier import charbonnier

GAUSSIAN_1D = np.array([0.05, 0.25, 0.4, 0.25, 0.05], dtype=np.float32)
PAD = len(GAUSSIAN_1D) // 2


def _depthwise_gaussian(x):
    channels = x.shape[1]
    kernel = np.outer(GAUSSIAN_1D, GAUSSIAN_1D)[None, None]
    weight = paddle.to_tensor(np.repeat(kernel, channels, axis=0), dtype=x.dtype)
    padded = F.pad(x, [PAD, PAD, PAD, PAD], mode="replicate")
    return F.conv2d(padded, weight, groups=channels)


def _even_grid_mask(height, width, dtype):
    """1 at even (row, column) positions, 0 elsewhere, broadcastable over NCHW."""
    mask = np.zeros((1, 1, height, width), dtype=np.float32)
    mask[:, :, ::2, ::2] = 1.0
    return paddle.to_tensor(mask, dtype=dtype)


def laplacian_detail(x):
    """x - G(zero-upsampled 4 * G(x)[..., ::2, ::2]) on an NCHW tensor with any channel count."""
    smoothed = _depthwise_gaussian(x)
    upsampled = 4.0 * smoothed * _even_grid_mask(x.shape[2], x.shape[3], x.dtype)
    return x - _depthwise_gaussian(upsampled)


@LOSSES.register()
class EdgeLoss(paddle.nn.Layer):
    """Charbonnier(laplacian_detail(pred), laplacian_detail(target)); the target gets no gradient."""

    def __init__(self, eps=1e-3):
        super().__init__()
        self.eps = float(eps)

    def forward(self, pred, target):
        with paddle.no_grad():
            target_detail = laplacian_detail(target.detach())
        return charbonnier(laplacian_detail(pred), target_detail, self.eps)
