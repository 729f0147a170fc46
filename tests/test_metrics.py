"""PSNR, SSIM, MAE and Y: agreement with scikit-image, brute-force MATLAB 3-D SSIM, known values."""
import numpy as np
import pytest
from skimage import data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from ppir.metrics import crop_border, mae, psnr, rgb_to_y, ssim


def noisy(img, sigma, seed=0):
    """A real photo with Gaussian noise, kept in the photo's dtype and range."""
    rng = np.random.default_rng(seed)
    peak = np.iinfo(img.dtype).max if img.dtype.kind == "u" else 1.0
    out = np.clip(img.astype(np.float64) + rng.normal(0, sigma * peak, img.shape), 0, peak)
    return np.round(out).astype(img.dtype) if img.dtype.kind == "u" else out.astype(img.dtype)


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()[:160, 100:300]  # 160x200x3 uint8, keeps the tests quick


def skimage_wang_ssim(img, ref, data_range, channel_axis=-1):
    return structural_similarity(
        img, ref, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        data_range=data_range, channel_axis=channel_axis,
    )


# ---- PSNR -----------------------------------------------------------------------------------


def test_psnr_matches_skimage_on_uint8_float_and_uint16(astronaut):
    degraded = noisy(astronaut, 0.08)
    assert psnr(degraded, astronaut) == pytest.approx(peak_signal_noise_ratio(astronaut, degraded, data_range=255), abs=1e-10)
    ref_f, img_f = astronaut / 255.0, degraded / 255.0
    assert psnr(img_f, ref_f, data_range=1) == pytest.approx(peak_signal_noise_ratio(ref_f, img_f, data_range=1), abs=1e-10)
    ref16, img16 = astronaut.astype(np.uint16) * 257, degraded.astype(np.uint16) * 257
    assert psnr(img16, ref16, data_range=65535) == pytest.approx(psnr(degraded, astronaut), abs=1e-9)


def test_psnr_closed_form_constant_error():
    ref = np.full((16, 16, 3), 100, np.uint8)
    img = ref + np.uint8(5)
    assert psnr(img, ref) == pytest.approx(10 * np.log10(255**2 / 25))


def test_crop_border_symmetric_and_matlab_style():
    img = np.arange(10 * 12).reshape(10, 12)
    np.testing.assert_array_equal(crop_border(img, 2), img[2:8, 2:10])
    # MATLAB img(2:end-2, 2:end-2) is 1-based inclusive: one pixel off the top/left, two off the bottom/right.
    np.testing.assert_array_equal(crop_border(img, 2, "matlab"), img[1:8, 1:10])
    assert crop_border(img, 0, "matlab") is img
    with pytest.raises(ValueError, match="leaves nothing"):
        crop_border(img, 5)


def test_psnr_crop_scores_only_the_interior(astronaut):
    degraded = noisy(astronaut, 0.05)
    degraded[:4] = 0  # damage confined to the 4-pixel top band
    interior = psnr(degraded[4:-4, 4:-4], astronaut[4:-4, 4:-4])
    assert psnr(degraded, astronaut, crop_border=4) == pytest.approx(interior)
    assert psnr(degraded, astronaut) < interior - 3
    matlab = psnr(degraded[3:-4, 3:-4], astronaut[3:-4, 3:-4])
    assert psnr(degraded, astronaut, crop_border=4, crop_style="matlab") == pytest.approx(matlab)


def test_identical_images_give_inf_psnr_and_unit_ssim(astronaut):
    assert psnr(astronaut, astronaut) == float("inf")
    assert psnr(astronaut, astronaut, channel="y") == float("inf")
    for mode in ("wang", "matlab3d", "skimage"):
        assert ssim(astronaut, astronaut, mode=mode) == pytest.approx(1.0, abs=1e-12)
    assert mae(astronaut, astronaut) == 0.0


# ---- Y channel ------------------------------------------------------------------------------


def test_y_known_values_uint8():
    pixels = np.array([[[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)
    # round(16 + 65.481) = 81, round(16 + 128.553) = 145, round(16 + 24.966) = 41
    np.testing.assert_array_equal(rgb_to_y(pixels), [[235, 16, 81, 145, 41]])


def test_y_on_float_and_uint16_keeps_the_data_range_scale():
    white_black = np.array([[[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]])
    np.testing.assert_allclose(rgb_to_y(white_black, data_range=1), [[235 / 255, 16 / 255]])
    red = np.array([[[1.0, 0.0, 0.0]]])
    assert rgb_to_y(red, data_range=1)[0, 0] == pytest.approx((16 + 65.481) / 255)  # floats are not rounded
    white16 = np.full((1, 1, 3), 65535, np.uint16)
    assert rgb_to_y(white16, data_range=65535)[0, 0] == 235 * 257  # MATLAB's uint16 path


def test_y_uint8_is_rounded_like_matlab_and_basicsr_option_is_not():
    pixel = np.array([[[10, 200, 30]]], np.uint8)
    exact = 16 + (65.481 * 10 + 128.553 * 200 + 24.966 * 30) / 255
    assert rgb_to_y(pixel)[0, 0] == np.floor(exact + 0.5)
    assert rgb_to_y(pixel, round_integers=False)[0, 0] == pytest.approx(exact)


def test_psnr_and_ssim_on_y_are_those_of_the_luma_images(astronaut):
    degraded = noisy(astronaut, 0.06)
    y_img, y_ref = rgb_to_y(degraded), rgb_to_y(astronaut)
    assert psnr(degraded, astronaut, channel="y") == pytest.approx(peak_signal_noise_ratio(y_ref, y_img, data_range=255))
    expected = skimage_wang_ssim(y_img, y_ref, 255, channel_axis=None)
    assert ssim(degraded, astronaut, channel="y") == pytest.approx(expected, abs=1e-12)


# ---- SSIM -----------------------------------------------------------------------------------


def test_wang_ssim_matches_skimage_gaussian_population_covariance(astronaut):
    degraded = noisy(astronaut, 0.1)
    assert ssim(degraded, astronaut) == pytest.approx(skimage_wang_ssim(degraded, astronaut, 255), abs=1e-10)
    gray_ref, gray_img = astronaut[..., 1] / 255.0, degraded[..., 1] / 255.0
    expected = skimage_wang_ssim(gray_img, gray_ref, 1.0, channel_axis=None)
    assert ssim(gray_img, gray_ref, data_range=1) == pytest.approx(expected, abs=1e-10)
    assert ssim(gray_img[..., None], gray_ref[..., None], data_range=1) == pytest.approx(expected, abs=1e-10)
    cropped = skimage_wang_ssim(degraded[3:-3, 3:-3], astronaut[3:-3, 3:-3], 255)
    assert ssim(degraded, astronaut, crop_border=3) == pytest.approx(cropped, abs=1e-10)


def test_skimage_mode_matches_skimage_defaults(astronaut):
    img, ref = noisy(astronaut, 0.1) / 255.0, astronaut / 255.0
    expected = structural_similarity(img, ref, data_range=1, channel_axis=-1)
    assert ssim(img, ref, mode="skimage", data_range=1) == pytest.approx(expected, abs=1e-10)


def brute_force_matlab_ssim(x, y, data_range):
    """MATLAB ssim() on a volume, voxel by voxel: 11x11x11 Gaussian (sigma 1.5), replicate padding."""
    taps = np.arange(-5, 6)
    g = np.exp(-(taps[:, None, None] ** 2 + taps[None, :, None] ** 2 + taps[None, None, :] ** 2) / (2 * 1.5**2))
    g /= g.sum()
    if x.ndim == 2:  # a 2-D image uses the 2-D window
        g = g.sum(axis=2)
    px, py = np.pad(x, 5, mode="edge"), np.pad(y, 5, mode="edge")
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    values = []
    for index in np.ndindex(x.shape):
        window = tuple(slice(i, i + 11) for i in index)
        wx, wy = px[window], py[window]
        mx, my = (g * wx).sum(), (g * wy).sum()
        vx, vy = (g * wx * wx).sum() - mx**2, (g * wy * wy).sum() - my**2
        cxy = (g * wx * wy).sum() - mx * my
        values.append((2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2)))
    return np.mean(values)


def test_matlab3d_ssim_equals_brute_force_volume_filter():
    rng = np.random.default_rng(3)
    ref = rng.integers(0, 256, (7, 9, 3)).astype(np.uint8)
    img = np.clip(ref + rng.normal(0, 25, ref.shape), 0, 255).astype(np.uint8)
    expected = brute_force_matlab_ssim(img.astype(np.float64), ref.astype(np.float64), 255)
    assert ssim(img, ref, mode="matlab3d") == pytest.approx(expected, abs=1e-12)
    gray_expected = brute_force_matlab_ssim(img[..., 0] / 255.0, ref[..., 0] / 255.0, 1.0)
    assert ssim(img[..., 0] / 255.0, ref[..., 0] / 255.0, mode="matlab3d", data_range=1) == pytest.approx(gray_expected, abs=1e-12)


def test_matlab3d_is_not_the_per_channel_mean(astronaut):
    degraded = noisy(astronaut, 0.1)
    three_d, per_channel = ssim(degraded, astronaut, mode="matlab3d"), ssim(degraded, astronaut, mode="wang")
    assert three_d - per_channel > 0.02  # channel mixing raises it, as the NAFNet/MMagic tables show


def test_matlab3d_is_fast_enough_for_gopro_frames():
    import time

    rng = np.random.default_rng(0)
    ref = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    img = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    start = time.perf_counter()
    ssim(img, ref, mode="matlab3d")
    assert time.perf_counter() - start < 5.0


# ---- MAE and errors -------------------------------------------------------------------------


def test_mae_is_a_fraction_of_the_data_range():
    ref = np.full((8, 8, 3), 0.5)
    assert mae(ref + 0.1, ref, data_range=1) == pytest.approx(0.1)
    assert mae(np.full((8, 8, 3), 60, np.uint8), np.full((8, 8, 3), 9, np.uint8)) == pytest.approx(51 / 255)


def test_mismatched_inputs_raise_value_errors(astronaut):
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(astronaut, astronaut[:-1])
    with pytest.raises(ValueError, match="dtypes differ"):
        ssim(astronaut, astronaut.astype(np.float32))
    with pytest.raises(ValueError, match="data_range"):
        psnr(astronaut.astype(np.uint16) * 257, astronaut.astype(np.uint16))
    with pytest.raises(ValueError, match="channel"):
        psnr(astronaut, astronaut, channel="bgr")
    with pytest.raises(ValueError, match="mode"):
        ssim(astronaut, astronaut, mode="gaussian")
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(astronaut[:10, :10], astronaut[:10, :10])
    with pytest.raises(ValueError, match="HxWx3"):
        psnr(astronaut[..., 0], astronaut[..., 0], channel="y")
