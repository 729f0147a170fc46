"""The reference backend: the Paddle network itself, run eagerly. Always available; every other
backend is checked against it."""
import paddle


def final_output(out):
    """MPRNet returns ``[final, stage2, stage1]``; the other networks return the image itself."""
    return out[0] if isinstance(out, (list, tuple)) else out


class DygraphBackend:
    name = "dygraph"

    def __init__(self, net):
        self.net = net
        self.description = "dygraph (Paddle eager mode)"

    def __call__(self, x):
        """NCHW float32 numpy array in, NCHW float32 numpy array out."""
        with paddle.no_grad():
            return final_output(self.net(paddle.to_tensor(x))).numpy()
