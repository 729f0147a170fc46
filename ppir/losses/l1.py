"""Mean absolute error, the pixel loss of every MIRNetV2 training config."""
import paddle

from ..registry import LOSSES


@LOSSES.register()
class L1Loss(paddle.nn.Layer):
    def forward(self, pred, target):
        return paddle.mean(paddle.abs(pred - target))
