"""Charbonnier, Edge, L1 and multi-stage losses: closed forms, a NumPy reference, gradients."""
import numpy as np
import paddle
import pytest
from skimage import data

from ppir.errors import ConfigError
from ppir.losses import CharbonnierLoss, EdgeLoss, L1Loss, MultiStageLoss, build_loss, laplacian_detail
from ppir.registry import LOSSES

EPS = 1e-3


def photo_batch(channels=3, size=32, seed=0):
    """1xCxHxW crop of a real photo (channels beyond RGB are shifted copies) with a noisy twin."""
    rgb = data.astronaut()[100 : 100 + size, 180 : 180 + size].astype(np.float32) / 255
    planes = [np.roll(rgb[..., c % 3], c // 3, axis=1) for c in range(channels)]
    clean = np.stack(planes)[None]
    noisy = np.clip(clean + np.random.default_rng(seed).normal(0, 0.05, clean.shape), 0, 1).astype(np.float32)
    return noisy, clean


def tensors(pred, gt):
    pred_t, gt_t = paddle.to_tensor(pred), paddle.to_tensor(gt)
    pred_t.stop_gradient = False
    gt_t.stop_gradient = False  # so a gradient reaching it would show
    return pred_t, gt_t


def test_charbonnier_closed_forms():
    gt = paddle.zeros([2, 3, 8, 8])
    assert float(CharbonnierLoss()(gt + 0.2, gt)) == pytest.approx(np.sqrt(0.2**2 + EPS**2), rel=1e-6)
    assert float(CharbonnierLoss()(gt, gt)) == pytest.approx(EPS, rel=1e-6)
    assert float(CharbonnierLoss(eps=0.5)(gt + 1.2, gt)) == pytest.approx(1.3, rel=1e-6)


def test_l1_is_the_mean_absolute_difference():
    noisy, clean = photo_batch()
    assert float(L1Loss()(*tensors(noisy, clean))) == pytest.approx(np.mean(np.abs(noisy - clean)), rel=1e-5)


def numpy_laplacian_detail(x):
    """The official edge-loss detail layer, written out with explicit loops."""
    k = np.array([0.05, 0.25, 0.4, 0.25, 0.05])
    kernel = np.outer(k, k)

    def gauss(img):  # replicate pad 2, then correlate each channel with the 5x5 kernel
        padded = np.pad(img, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="edge")
        out = np.zeros_like(img, dtype=np.float64)
        for i in range(img.shape[2]):
            for j in range(img.shape[3]):
                out[:, :, i, j] = np.sum(padded[:, :, i : i + 5, j : j + 5] * kernel, axis=(2, 3))
        return out

    filtered = gauss(x)
    up = np.zeros_like(filtered)
    up[:, :, ::2, ::2] = 4 * filtered[:, :, ::2, ::2]
    return x - gauss(up)


@pytest.mark.parametrize("channels", [1, 3, 6])
def test_laplacian_detail_matches_numpy_reference_for_any_channel_count(channels):
    noisy, _ = photo_batch(channels, size=18)
    got = laplacian_detail(paddle.to_tensor(noisy)).numpy()
    np.testing.assert_allclose(got, numpy_laplacian_detail(noisy.astype(np.float64)), atol=1e-6)


def test_edge_loss_is_eps_for_identical_images_and_larger_otherwise():
    noisy, clean = photo_batch()
    assert float(EdgeLoss()(*tensors(clean, clean))) == pytest.approx(EPS, abs=1e-7)
    different = float(EdgeLoss()(*tensors(noisy, clean)))
    expected = np.mean(np.sqrt((numpy_laplacian_detail(noisy.astype(np.float64)) - numpy_laplacian_detail(clean.astype(np.float64))) ** 2 + EPS**2))
    assert different == pytest.approx(expected, rel=1e-5)
    assert different > 10 * EPS


@pytest.mark.parametrize("loss", [CharbonnierLoss(), EdgeLoss(), L1Loss()])
def test_gradients_reach_the_prediction_only(loss):
    noisy, clean = photo_batch(channels=4)
    pred, gt = tensors(noisy, clean)
    loss(pred, gt).backward()
    assert pred.grad is not None and float(pred.grad.abs().sum()) > 0
    if isinstance(loss, EdgeLoss):
        assert gt.grad is None  # the official target detail is a constant


def test_multi_stage_sums_losses_over_stages_like_mprnet():
    noisy, clean = photo_batch()
    stages = [paddle.to_tensor(noisy * s) for s in (1.0, 0.9, 0.8)]
    gt = paddle.to_tensor(clean)
    loss = build_loss({"name": "MultiStageLoss"})  # default: Charbonnier + 0.05 Edge
    total = loss(stages, gt)
    manual = sum(float(CharbonnierLoss()(s, gt)) + 0.05 * float(EdgeLoss()(s, gt)) for s in stages)
    assert float(total) == pytest.approx(manual, rel=1e-6)
    components = {k: float(v) for k, v in loss.last_components.items()}
    assert set(components) == {"CharbonnierLoss", "EdgeLoss"}
    assert sum(components.values()) == pytest.approx(float(total), rel=1e-6)
    assert components["EdgeLoss"] == pytest.approx(sum(0.05 * float(EdgeLoss()(s, gt)) for s in stages), rel=1e-6)


def test_multi_stage_single_tensor_stage_weights_and_gradients():
    noisy, clean = photo_batch()
    pred, gt = tensors(noisy, clean)
    single = MultiStageLoss(losses=[{"name": "L1Loss"}])
    assert float(single(pred, gt)) == pytest.approx(float(L1Loss()(pred, gt)), rel=1e-6)
    weighted = MultiStageLoss(losses=[{"name": "L1Loss", "weight": 2.0}], stage_weights=[1.0, 0.5])
    total = weighted([pred, pred * 0.5], gt)
    expected = 2.0 * float(L1Loss()(pred, gt)) + 0.5 * 2.0 * float(L1Loss()(pred * 0.5, gt))
    assert float(total) == pytest.approx(expected, rel=1e-6)
    total.backward()
    assert float(pred.grad.abs().sum()) > 0
    with pytest.raises(ValueError, match="stage_weights"):
        weighted([pred], gt)


def test_clamp_output_clamps_predictions_before_the_loss():
    _, clean = photo_batch()
    overshoot = clean.copy()
    overshoot[..., :8] = 1.5
    pred, gt = tensors(overshoot, np.where(overshoot > 1, 1.0, clean).astype(np.float32))
    clamped = MultiStageLoss(losses=[{"name": "CharbonnierLoss"}], clamp_output=True)
    total = clamped([pred, pred, pred], gt)
    assert float(total) == pytest.approx(3 * EPS, rel=1e-5)  # clamped output equals the target
    total.backward()
    assert float(pred.grad[..., :8].abs().sum()) == 0.0  # clamped pixels pass no gradient
    assert float(MultiStageLoss(losses=[{"name": "CharbonnierLoss"}])([pred], gt)) > 10 * EPS


def test_loss_configuration_errors_and_registry():
    assert {"CharbonnierLoss", "EdgeLoss", "L1Loss", "MultiStageLoss"} <= set(LOSSES.names())
    with pytest.raises(ConfigError, match="Did you mean 'EdgeLoss'"):
        build_loss({"name": "EdgeLos"})
    with pytest.raises(ConfigError, match="epsilon"):
        build_loss({"name": "CharbonnierLoss", "epsilon": 1e-3})
    with pytest.raises(ConfigError, match="'name'"):
        build_loss("CharbonnierLoss")
    with pytest.raises(ConfigError, match="repeated"):
        MultiStageLoss(losses=[{"name": "L1Loss"}, {"name": "L1Loss"}])
    with pytest.raises(ConfigError, match="Did you mean"):
        MultiStageLoss(losses=[{"name": "Charbonier"}])
