import numpy as np
import paddle
import paddle.nn.functional as F
import pytest
from paddle.static import InputSpec

from ppir.archs import resample


def bilinear_double_reference(x):
    """Half-pixel bilinear x2 along the last two axes, written from the definition (numpy)."""

    def along_last_axis(a):
        n = a.shape[-1]
        coord = np.clip((np.arange(2 * n) + 0.5) / 2 - 0.5, 0, None)
        lo = np.floor(coord).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        frac = coord - lo
        return a[..., lo] * (1 - frac) + a[..., hi] * frac

    return along_last_axis(along_last_axis(x).swapaxes(-1, -2)).swapaxes(-1, -2)


@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (1, 4, 8, 6), (1, 2, 1, 1), (1, 3, 9, 4)])
@pytest.mark.parametrize("mode", resample.MODES)
def test_upsample_double_is_half_pixel_bilinear_in_both_modes(shape, mode):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with resample.use_mode(mode):
        out = resample.upsample_double(paddle.to_tensor(x)).numpy()
    assert out.shape == (shape[0], shape[1], 2 * shape[2], 2 * shape[3])
    np.testing.assert_allclose(out, bilinear_double_reference(x.astype(np.float64)), atol=1e-6)


@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (1, 8, 16, 12)])
def test_conv_and_interp_upsampling_agree(shape):
    x = paddle.to_tensor(np.random.default_rng(1).standard_normal(shape).astype(np.float32))
    interp = resample.upsample_double(x)
    with resample.export_friendly():
        conv = resample.upsample_double(x)
    assert float((interp - conv).abs().max()) <= 1e-6


def test_downsample_half_equals_bilinear_half():
    x = paddle.to_tensor(np.random.default_rng(2).standard_normal((2, 3, 6, 10)).astype(np.float32))
    bilinear = F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False)
    for mode in resample.MODES:
        with resample.use_mode(mode):
            out = resample.downsample_half(x)
        assert float((out - bilinear).abs().max()) <= 1e-6


def test_downsample_half_rejects_odd_sizes():
    with pytest.raises(ValueError, match="even height and width, got 5x6"):
        resample.downsample_half(paddle.zeros([1, 1, 5, 6]))


def test_mode_switch_validates_and_restores():
    assert resample.get_mode() == "interp"
    with pytest.raises(ValueError, match="unknown resample mode 'bicubic'; choose one of interp, conv"):
        resample.set_mode("bicubic")
    with pytest.raises(RuntimeError):
        with resample.export_friendly():
            assert resample.get_mode() == "conv"
            raise RuntimeError("inside")
    assert resample.get_mode() == "interp"


class DownUp(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.down = resample.DownsampleHalf()
        self.up = resample.UpsampleDouble()

    def forward(self, x):
        return self.up(self.down(x))


def traced_op_names(layer, x):
    static = paddle.jit.to_static(layer, input_spec=[InputSpec([None, 3, None, None], "float32")],
                                  full_graph=True)
    out = static(x)
    ops = static.forward.concrete_program.main_program.global_block().ops
    return out, {op.name() for op in ops}


def test_to_static_traces_the_active_mode():
    x = paddle.to_tensor(np.random.default_rng(3).standard_normal((1, 3, 8, 12)).astype(np.float32))
    expected = DownUp()(x)
    interp_out, interp_ops = traced_op_names(DownUp(), x)
    with resample.export_friendly():
        conv_out, conv_ops = traced_op_names(DownUp(), x)
    assert "pd_op.bilinear_interp" in interp_ops
    assert "pd_op.bilinear_interp" not in conv_ops
    assert "pd_op.depthwise_conv2d_transpose" in conv_ops
    assert float((interp_out - expected).abs().max()) == 0.0
    assert float((conv_out - expected).abs().max()) <= 1e-6
