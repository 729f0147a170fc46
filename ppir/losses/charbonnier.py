"""Charbonnier loss, the smooth L1 MPRNet and MIRNet train with."""
import paddle

from ..registry import LOSSES


def charbonnier(pred, target, eps):
    """mean(sqrt((pred - target)^2 + eps^2)): the official form (eps inside the root, squared)."""
    diff = pred - target
    return paddle.mean(paddle.sqrt(diff * diff + eps * eps))


@LOSSES.register()
class CharbonnierLoss(paddle.nn.Layer):
    """Official MPRNet/MIRNet Charbonnier: eps = 1e-3, mean over every element.

    (PaddleGAN's version uses eps = 1e-12 and a sum, which changes the loss scale and so the
    effective learning rate.)
    """

    def __init__(self, eps=1e-3):
        super().__init__()
        self.eps = float(eps)

    def forward(self, pred, target):
        return charbonnier(pred, target, self.eps)
