"""The reference backend: the Paddle network itself, run eagerly. Always available; every other
backend is checked against it."""
import paddle

from ...archs.contract import final_image as final_output  # noqa: F401 (re-exported)


class DygraphBackend:
    name = "dygraph"

    def __init__(self, net):
        self.net = net
        self.description = "dygraph (Paddle eager mode)"

    def __call__(self, x):
        """NCHW float32 numpy array in, NCHW float32 numpy array out."""
        with paddle.no_grad():
            return final_output(self.net(paddle.to_tensor(x))).numpy()
