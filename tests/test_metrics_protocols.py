"""Benchmark protocols, the Evaluator and RealBlur's aligned scoring, on real photos."""
import math

import cv2
import numpy as np
import pytest
from skimage import data
from skimage.metrics import structural_similarity

from ppir.errors import ConfigError
from ppir.metrics import (
    PROTOCOLS,
    Evaluator,
    align_to_reference,
    build_metric,
    get_protocol,
    mean_of_dataset_means,
    psnr,
    realblur_psnr_ssim,
    ssim,
)
from ppir.metrics.realblur import masked_psnr, masked_ssim
from ppir.registry import METRICS


def as_unit_float(img):
    return img.astype(np.float32) / 255.0


def degrade(img, sigma=0.04, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.normal(0, sigma, img.shape), 0, 1).astype(np.float32)


@pytest.fixture(scope="module")
def coffee():
    return as_unit_float(data.coffee()[100:260, 150:350])  # 160x200 crop of a real photo


@pytest.fixture(scope="module")
def chelsea():
    return as_unit_float(data.chelsea()[:128, 100:292])


# ---- protocols ------------------------------------------------------------------------------

EXPECTED_LABELS = {
    "gopro": ("PSNR", "SSIM"), "hide": ("PSNR", "SSIM"), "realblur": ("PSNR", "SSIM"), "rain": ("PSNR", "SSIM"),
    "sidd_val": ("PSNR", "SSIM"), "realsr_x2": ("PSNR", "SSIM"), "realsr_x3": ("PSNR", "SSIM"),
    "realsr_x4": ("PSNR", "SSIM"), "dpdd": ("PSNR", "SSIM", "MAE"), "lol": ("PSNR", "SSIM"),
    "fivek": ("PSNR", "SSIM"), "training_psnr": ("PSNR",),
}


def test_every_protocol_scores_a_degraded_photo(coffee):
    assert set(PROTOCOLS) == set(EXPECTED_LABELS)
    restored = degrade(coffee)
    for name, labels in EXPECTED_LABELS.items():
        evaluator = Evaluator(name)
        evaluator.update(restored, coffee, "coffee")
        summary = evaluator.summary()
        assert tuple(summary) == labels, name
        assert 20 < summary["PSNR"] < 40, name
        if "SSIM" in summary:
            assert 0.3 < summary["SSIM"] < 1.0, name


def test_gopro_scores_rounded_png_values_with_matlab_3d_ssim(coffee):
    restored = degrade(coffee)
    evaluator = Evaluator("gopro")
    evaluator.update(restored, coffee, "a")
    as_png = [np.round(np.clip(x, 0, 1) * 255).astype(np.uint8) for x in (restored, coffee)]
    assert evaluator.summary() == {"PSNR": psnr(*as_png), "SSIM": ssim(*as_png, mode="matlab3d")}


def test_quantised_protocol_ignores_sub_level_differences_float_protocol_does_not(coffee):
    target = (np.round(coffee * 254) / 255).astype(np.float32)  # PNG levels, none at 255 so no clamping
    restored = (target + 0.4 / 255).astype(np.float32)  # rounds back to the same 8-bit values
    quantised, floating = Evaluator("lol"), Evaluator("training_psnr")
    quantised.update(restored, target, "x")
    floating.update(restored, target, "x")
    assert quantised.summary()["PSNR"] == math.inf
    assert floating.summary()["PSNR"] == pytest.approx(20 * np.log10(255 / 0.4), abs=1e-3)


def test_float_protocols_clamp_the_restored_image(coffee):
    overshoot = coffee.copy()
    overshoot[:10] = 1.7  # the clamp to [0, 1] that every official test script applies
    reference = coffee.copy()
    reference[:10] = 1.0
    evaluator = Evaluator("sidd_val")
    evaluator.update(overshoot, reference, "x")
    assert evaluator.summary() == {"PSNR": math.inf, "SSIM": pytest.approx(1.0)}


def test_sidd_val_uses_data_range_one_on_floats(coffee):
    restored = degrade(coffee)
    evaluator = Evaluator("sidd_val")
    evaluator.update(restored, coffee, "x")
    expected_ssim = ssim(restored.astype(np.float64), coffee.astype(np.float64), mode="matlab3d", data_range=1)
    assert evaluator.summary()["SSIM"] == pytest.approx(expected_ssim, abs=1e-12)


def test_realsr_protocol_crops_matlab_style_and_scores_rounded_luma(coffee):
    restored = degrade(coffee)
    evaluator = Evaluator("realsr_x4")
    evaluator.update(restored, coffee, "x")
    img, ref = (np.round(x * 255).astype(np.uint8)[3:-4, 3:-4] for x in (restored, coffee))
    assert evaluator.summary() == {"PSNR": psnr(img, ref, channel="y"), "SSIM": ssim(img, ref, channel="y")}


def test_dpdd_protocol_follows_the_skimage_script(coffee):
    restored = degrade(coffee)
    evaluator = Evaluator("dpdd")
    evaluator.update(restored, coffee, "x")
    img, ref = restored.astype(np.float64), coffee.astype(np.float64)
    summary = evaluator.summary()
    assert summary["PSNR"] == pytest.approx(10 * np.log10(1 / np.mean((img - ref) ** 2)))
    assert summary["SSIM"] == pytest.approx(structural_similarity(img, ref, data_range=1, channel_axis=-1), abs=1e-10)
    assert summary["MAE"] == pytest.approx(np.mean(np.abs(img - ref)))


def test_mean_of_dataset_means_weights_each_set_once():
    summaries = {"Rain100H": {"PSNR": 30.0, "SSIM": 0.9}, "Rain100L": {"PSNR": 36.0, "SSIM": 0.96}}
    assert mean_of_dataset_means(summaries) == {"PSNR": 33.0, "SSIM": pytest.approx(0.93)}
    with pytest.raises(ValueError, match="different metrics"):
        mean_of_dataset_means({"a": {"PSNR": 1.0}, "b": {"SSIM": 1.0}})


# ---- Evaluator accumulation and configuration -----------------------------------------------


def test_summary_is_the_mean_over_images_and_keeps_per_image_values(coffee, chelsea):
    evaluator = Evaluator("training_psnr")
    first = evaluator.update(degrade(coffee, 0.02), coffee, "coffee")["PSNR"]
    second = evaluator.update(degrade(chelsea, 0.08), chelsea, "chelsea")["PSNR"]
    assert evaluator.summary() == {"PSNR": pytest.approx((first + second) / 2)}
    assert evaluator.per_image() == [("coffee", {"PSNR": first}), ("chelsea", {"PSNR": second})]
    evaluator.reset()
    assert math.isnan(evaluator.summary()["PSNR"])


def test_repeated_names_count_once_like_padded_distributed_samples(coffee, chelsea):
    evaluator = Evaluator("training_psnr")
    restored = degrade(coffee)
    evaluator.update(restored, coffee, "coffee")
    evaluator.update(degrade(chelsea), chelsea, "chelsea")
    evaluator.update(restored, coffee, "coffee")  # the sampler's padding repeats an image
    assert len(evaluator.per_image()) == 2
    assert len(evaluator.per_image(reduce=False)) == 3
    evaluator.update(np.zeros_like(coffee), coffee, "chelsea")  # a real name clash is reported
    with pytest.warns(UserWarning, match="scored twice"):
        evaluator.summary()


def test_unnamed_images_are_all_counted(coffee):
    evaluator = Evaluator("training_psnr")
    for seed in range(3):
        evaluator.update(degrade(coffee, seed=seed), coffee)
    assert len(evaluator.per_image()) == 3


def test_metric_config_lists_and_custom_protocols(coffee):
    restored = degrade(coffee)
    listed = Evaluator([{"name": "PSNR", "channel": "y", "crop_border": 4}, {"name": "SSIM", "label": "SSIM3D", "mode": "matlab3d"}])
    listed.update(restored, coffee, "x")
    img, ref = (np.round(x * 255).astype(np.uint8) for x in (restored, coffee))  # lists quantise, like BasicSR
    assert listed.summary() == {"PSNR": psnr(img, ref, 4, "y"), "SSIM3D": ssim(img, ref, mode="matlab3d")}
    floating = Evaluator({"metrics": [{"name": "PSNR"}], "quantize": False})
    floating.update(restored, coffee, "x")
    assert floating.summary()["PSNR"] == pytest.approx(psnr(restored, coffee, data_range=1))


def test_configuration_mistakes_raise_config_errors(coffee):
    with pytest.raises(ConfigError, match="unknown evaluation protocol 'gorpo'"):
        Evaluator("gorpo")
    with pytest.raises(ConfigError, match="labels repeat"):
        Evaluator([{"name": "PSNR"}, {"name": "PSNR", "channel": "y"}])
    with pytest.raises(ConfigError, match="Did you mean 'PSNR'"):
        build_metric({"name": "PNSR"})
    with pytest.raises(ConfigError, match="crop"):
        build_metric({"name": "PSNR", "crop": 4})
    with pytest.raises(ConfigError, match="'mode'"):
        build_metric({"name": "SSIM", "mode": "3d"})
    with pytest.raises(ConfigError, match="unknown keys"):
        get_protocol({"metrics": [{"name": "PSNR"}], "quantise": True})
    with pytest.raises(ValueError, match="float images"):
        Evaluator("gopro").update((coffee * 255).astype(np.uint8), (coffee * 255).astype(np.uint8))


def test_metrics_are_registered():
    assert {"PSNR", "SSIM", "MAE", "RealBlurPSNRSSIM"} <= set(METRICS.names())


# ---- RealBlur ---------------------------------------------------------------------------------


def shift(img, dx, dy):
    """img sampled at (x + dx, y + dy): a sub-pixel camera shift of a real photo."""
    matrix = np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float32)
    size = (img.shape[1], img.shape[0])
    return cv2.warpPerspective(img, matrix, size, flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)


def test_alignment_recovers_a_known_shift(coffee):
    moved = shift(coffee, 2.5, -1.5)
    aligned, masked_ref, mask, warp = align_to_reference(moved, coffee)
    # ECC maps reference coordinates into the moved image: the inverse shift.
    np.testing.assert_allclose(warp[:2, 2], [-2.5, 1.5], atol=0.05)
    np.testing.assert_allclose(warp[:2, :2], np.eye(2), atol=1e-3)
    assert mask.shape == coffee.shape and mask.min() == 0 and mask.max() == 1
    unaligned = psnr(moved, coffee, data_range=1)
    aligned_psnr, aligned_ssim = realblur_psnr_ssim(moved, coffee)
    assert aligned_psnr > unaligned + 10
    assert aligned_ssim > 0.95


def test_realblur_on_identical_images(coffee):
    value_psnr, value_ssim = realblur_psnr_ssim(coffee, coffee)
    assert value_psnr > 80
    assert value_ssim == pytest.approx(1.0, abs=1e-6)


def test_masked_scores_ignore_pixels_outside_the_mask(coffee):
    restored = degrade(coffee)
    mask = np.ones_like(coffee)
    mask[:, 120:] = 0
    masked_restored, masked_ref = restored * mask, coffee * mask
    kept = psnr(restored[:, :120].astype(np.float64), coffee[:, :120].astype(np.float64), data_range=1)
    assert masked_psnr(masked_restored, masked_ref, mask) == pytest.approx(kept, abs=1e-4)
    # The official script: skimage's full SSIM map times the mask, cropped by the window radius.
    _, full_map = structural_similarity(
        masked_ref.astype(np.float64), masked_restored.astype(np.float64), channel_axis=-1, gaussian_weights=True,
        use_sample_covariance=False, data_range=1.0, full=True,
    )
    cropped_map, cropped_mask = (full_map * mask)[5:-5, 5:-5], mask[5:-5, 5:-5]
    expected = np.mean(cropped_map.sum(axis=(0, 1)) / cropped_mask.sum(axis=(0, 1)))
    assert masked_ssim(masked_restored, masked_ref, mask) == pytest.approx(expected, abs=1e-10)
