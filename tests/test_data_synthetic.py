"""Pairs made on the fly from clean photos (scikit-image's or a folder), the degradations behind
them, and MixUp on a batch."""
import numpy as np
import paddle
import pytest
import scipy.stats
import skimage.data

from ppir.data import DEFAULT_PHOTOS, DEFAULT_VAL_PHOTOS, SyntheticDegradationDataset, mixup
from ppir.data import degradations as D
from ppir.errors import ConfigError, DatasetError
from ppir.utils.image_io import write_image
from data_support import photo, photo16, windows_equal_to

FLAT = 128 / 255


def flat(value=FLAT, size=64):
    return np.full((size, size, 3), value, dtype=np.float32)


def write_photos(folder, names, size=(24, 32), value=None):
    """Photos (or flat gray images of ``value``) named ``<name>.png``."""
    for index, name in enumerate(names):
        img = photo(index, size) if value is None else np.full((*size, 3), value, np.uint8)
        write_image(str(folder / f"{name}.png"), img)
    return folder


def test_default_source_is_scikit_image_photos():
    train = SyntheticDegradationDataset(patch_size=16, seed=0)
    val = SyntheticDegradationDataset(phase="val", center_crop=32)
    assert val.names == list(DEFAULT_VAL_PHOTOS) == ["chelsea", "camera"]
    assert train.names == [n for n in DEFAULT_PHOTOS if n not in DEFAULT_VAL_PHOTOS] and len(train.names) == 11
    camera = val[1]
    assert camera["name"] == "camera" and camera["gt"].shape == (3, 32, 32)
    full = skimage.data.camera()  # gray, 512 x 512: repeated to three channels
    assert np.array_equal(camera["gt"], np.repeat(full[None, 240:272, 240:272], 3, axis=0) / np.float32(255))
    item = train[0]
    assert item["lq"].shape == item["gt"].shape == (3, 16, 16) and item["lq"].dtype == np.float32


def test_chosen_scikit_image_photos():
    mine = SyntheticDegradationDataset(photos=["astronaut", "coffee", "camera", "coins"], patch_size=8)
    assert mine.names == ["astronaut", "coffee", "coins"]  # camera, a default val photo, is held out
    none_default = SyntheticDegradationDataset(photos=["astronaut", "coffee", "rocket"], phase="val")
    assert none_default.names == ["astronaut"]  # then every tenth photo, from the first
    with pytest.raises(ConfigError, match="scikit-image has no sample photo lenna"):
        SyntheticDegradationDataset(photos=["astronaut", "lenna"])


def test_gaussian_noise_has_the_asked_sigma():
    rng = np.random.RandomState(0)
    residual = D.gaussian_noise(flat(), rng, sigma=25) - flat()
    assert abs(residual.std() - 25 / 255) < 0.02 * 25 / 255 and abs(residual.mean()) < 2e-3
    # a [low, high] sigma is drawn per image
    stds = [(D.gaussian_noise(flat(), rng, sigma=(5, 50)) - flat()).std() * 255 for _ in range(20)]
    assert 5 * 0.95 < min(stds) < 15 and 40 < max(stds) < 50 * 1.05


def test_poisson_noise_keeps_the_mean_and_scales_the_variance_with_the_peak():
    rng = np.random.RandomState(0)
    img = flat(0.5, 128)
    for peak in (10, 100):
        noisy = D.poisson_noise(img, rng, peak=peak)
        assert abs(noisy.mean() - 0.5) < 0.01
        assert abs(noisy.var() / (0.5 / peak) - 1) < 0.05  # counts ~ Poisson(0.5 * peak), divided by peak


def test_blur_kernels_are_normalised_centred_and_shaped():
    horizontal = D.motion_kernel(9, 0)
    assert horizontal.shape == (9, 9) and abs(horizontal.sum() - 1) < 1e-6 and horizontal.min() >= 0
    assert np.allclose(horizontal[4], 1 / 9) and np.allclose(np.delete(horizontal, 4, axis=0), 0)
    assert np.allclose(D.motion_kernel(9, 90), horizontal.T, atol=1e-6)
    for length, angle in [(5, 0), (7.3, 30), (12.5, 45), (21, 100), (6, 170)]:
        kernel = D.motion_kernel(length, angle)
        size = kernel.shape[0]
        ys, xs = np.mgrid[:size, :size]
        # centred: a blurred image is not shifted against its target
        assert np.allclose([(kernel * ys).sum(), (kernel * xs).sum()], (size - 1) / 2, atol=1e-4), (length, angle)
        assert np.allclose(kernel, kernel[::-1, ::-1], atol=1e-6) and abs(kernel.sum() - 1) < 1e-6
        spread = np.sqrt((kernel * ((xs - size // 2) ** 2 + (ys - size // 2) ** 2)).sum())
        assert abs(spread - length / np.sqrt(12)) < 0.15 * length / np.sqrt(12)  # a uniform segment's spread
    disk = D.disk_kernel(3.0)
    assert disk.shape == (7, 7) and abs(disk.sum() - 1) < 1e-6 and np.allclose(disk, disk.T)
    assert disk[3, 3] == disk.max() and disk[0, 0] == 0 and disk[3, 0] > 0  # round, radius 3


@pytest.mark.parametrize("name", ["motion_blur", "defocus_blur", "blur"])
def test_blurs_keep_a_constant_image_and_soften_a_photo(name):
    rng = np.random.RandomState(1)
    function = getattr(D, {"blur": "any_blur"}.get(name, name))
    assert np.allclose(function(flat(0.3), rng), 0.3, atol=1e-6)
    sharp = photo(2, (64, 64)).astype(np.float32) / 255
    blurred = function(sharp, rng)
    energy = lambda x: np.abs(np.diff(x, axis=0)).mean() + np.abs(np.diff(x, axis=1)).mean()  # noqa: E731
    assert energy(blurred) < 0.8 * energy(sharp)
    assert abs(blurred.mean() - sharp.mean()) < 0.01  # blurring moves light, it does not add any


def test_rain_streaks_only_brighten():
    rng = np.random.RandomState(2)
    img = photo(1, (64, 64)).astype(np.float32) / 255
    rainy = D.rain_streaks(img, rng, amount=400)
    lift = rainy - img
    assert lift.min() >= 0 and lift.max() > 0.2
    assert 0.01 < (lift > 0.05).mean() < 0.5  # thin streaks, not a veil
    assert np.array_equal(D.rain_streaks(flat(1.0), rng), flat(1.0))  # white stays white


def test_unknown_degradation_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown degradation.*choose from noise, poisson, motion_blur"):
        SyntheticDegradationDataset(degradation="jpeg")


def test_noise_through_the_dataset_on_your_own_flat_photos(tmp_path):
    write_photos(tmp_path, [f"gray{i}" for i in range(4)], size=(64, 64), value=128)
    ds = SyntheticDegradationDataset(str(tmp_path), degradation="noise", sigma=25, phase="val", split="train")
    assert ds.names == ["gray1", "gray2", "gray3"]  # every tenth photo (here gray0) is held out
    for item in ds:
        assert np.array_equal(item["gt"], np.full((3, 64, 64), FLAT, np.float32))
        assert abs((item["lq"] - item["gt"]).std() - 25 / 255) < 0.03 * 25 / 255


def test_seeds_and_validation_determinism(tmp_path):
    def samples(**options):
        ds = SyntheticDegradationDataset(degradation=["motion_blur", "noise"], patch_size=16, **options)
        return [ds[i]["lq"] for i in (0, 1, 0)]

    first, again, other = samples(seed=1), samples(seed=1), samples(seed=2)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not any(np.array_equal(a, b) for a, b in zip(first, other))
    assert not np.array_equal(first[0], first[2])  # a training item is fresh every time

    write_photos(tmp_path, ["a", "b", "c", "d"])
    one = SyntheticDegradationDataset(str(tmp_path), degradation="rain", phase="val", val_names=["c"])
    two = SyntheticDegradationDataset(str(tmp_path), degradation="rain", phase="val", val_names=["b", "c"])
    assert one.names == ["c"] and two.names == ["b", "c"]
    # the same photo gets the same rain whatever else is in the set and in whichever order
    assert np.array_equal(one[0]["lq"], two[1]["lq"]) and np.array_equal(two[1]["lq"], two[1]["lq"])
    assert not np.array_equal(two[0]["lq"], two[0]["gt"])
    reseeded = SyntheticDegradationDataset(str(tmp_path), degradation="rain", phase="val", val_names=["c"], seed=5)
    assert not np.array_equal(reseeded[0]["lq"], one[0]["lq"])


def test_split_holds_photos_out(tmp_path):
    names = [f"p{i}" for i in range(1, 13)]
    write_photos(tmp_path, names)
    train = SyntheticDegradationDataset(str(tmp_path), patch_size=8)
    val = SyntheticDegradationDataset(str(tmp_path), phase="val")
    assert val.names == ["p1", "p11"]  # every tenth in natural order
    assert sorted(train.names + val.names) == sorted(names) and not set(train.names) & set(val.names)
    chosen = SyntheticDegradationDataset(str(tmp_path), patch_size=8, val_names=["p3"], repeat=4)
    assert "p3" not in chosen.names and len(chosen) == 44
    assert {chosen[i]["name"] for i in range(len(chosen))} == set(names) - {"p3"}
    with pytest.raises(ConfigError, match="val_names not among the photos: p99"):
        SyntheticDegradationDataset(str(tmp_path), val_names=["p99"])
    with pytest.raises(ConfigError, match="needs a patch_size"):
        SyntheticDegradationDataset(str(tmp_path), patch_size=None)


def test_your_own_photos_are_read_as_stored(tmp_path):
    write_image(str(tmp_path / "eight.png"), photo(0))
    write_image(str(tmp_path / "sixteen.png"), photo16(1))
    ds = SyntheticDegradationDataset(str(tmp_path), phase="val", split="train", val_names=[])
    by_name = {item["name"]: item for item in ds}
    assert np.array_equal(by_name["eight"]["gt"], np.transpose(photo(0), (2, 0, 1)) / np.float32(255))
    assert np.allclose(by_name["sixteen"]["gt"], np.transpose(photo16(1), (2, 0, 1)) / 65535, atol=1e-7)


def test_training_crop_degrades_with_real_neighbours(tmp_path):
    """A blurred training patch equals the same window of the blurred whole photo: the crop keeps
    the margin the kernel needs and cuts it off afterwards."""
    write_image(str(tmp_path / "a.png"), photo(3, (48, 56)))
    ds = SyntheticDegradationDataset(
        str(tmp_path), degradation="defocus_blur", defocus_radius=2.5, patch_size=12, augment=False, val_names=[],
        seed=4,
    )
    whole = photo(3, (48, 56)).astype(np.float32) / 255
    blurred = D.defocus_blur(whole, np.random.RandomState(0), radius=2.5)
    for _ in range(5):
        item = ds[0]
        assert item["gt"].shape == (3, 12, 12)
        (top, left), *others = windows_equal_to(np.transpose(item["gt"], (1, 2, 0)), whole)
        assert not others
        assert np.allclose(item["lq"], np.transpose(blurred[top : top + 12, left : left + 12], (2, 0, 1)), atol=1e-5)


@pytest.mark.parametrize("case", ["missing", "empty", "no images"])
def test_bad_photo_folder_is_one_dataset_error(tmp_path, case):
    root = tmp_path / "photos"
    if case != "missing":
        root.mkdir()
    if case == "no images":
        (root / "notes.txt").write_text("no photos here")
    with pytest.raises(DatasetError) as err:
        SyntheticDegradationDataset(str(root))
    assert str(root) in str(err.value) and "\n" not in str(err.value)
    assert ("not found" if case == "missing" else "no images") in str(err.value)


# MixUp. Sample i of the batch is one-hot along the channels (lq: channel i, gt: channel i+1), so
# a mixed sample shows its own weight and its partner.


def one_hot_batch(count):
    eye = np.eye(count, dtype=np.float32)
    return eye[:, :, None, None] * np.ones((1, 1, 2, 2), np.float32), 3 * np.roll(eye, 1, axis=1)[:, :, None, None]


def read_mix(lq_mixed):
    """(weights, partners) of each mixed sample; weight None where a sample met itself."""
    values = lq_mixed[:, :, 0, 0]
    weights, partners = [], []
    for i, row in enumerate(values):
        others = [j for j in np.nonzero(row > 1e-7)[0] if j != i]
        partners.append(others[0] if others else i)
        weights.append(row[i] if others else None)
    return weights, partners


def check_same_mix(lq, gt, lq_mixed, gt_mixed):
    weights, partners = read_mix(lq_mixed)
    for i, (w, p) in enumerate(zip(weights, partners)):
        lam = 1.0 if w is None else w
        assert np.allclose(gt_mixed[i], lam * gt[i] + (1 - lam) * gt[p], atol=1e-6)
        assert np.allclose(lq_mixed[i], lam * lq[i] + (1 - lam) * lq[p], atol=1e-6)
    return weights, partners


def test_mprnet_mixup_per_sample_beta_06():
    lq, gt = one_hot_batch(300)
    rng = np.random.RandomState(0)
    lams = []
    for _ in range(4):
        lq_mixed, gt_mixed = mixup(lq, gt, preset="mprnet", rng=rng)
        weights, partners = check_same_mix(lq, gt, lq_mixed, gt_mixed)
        assert sorted(partners) == list(range(300))  # a permutation
        lams += [w for w in weights if w is not None]
    assert len(set(np.round(lams, 6))) > 0.99 * len(lams)  # one weight per sample
    assert scipy.stats.kstest(lams, scipy.stats.beta(0.6, 0.6).cdf).pvalue > 0.01
    assert scipy.stats.kstest(lams, scipy.stats.beta(1.2, 1.2).cdf).pvalue < 1e-4


def test_mirnetv2_mixup_one_weight_per_batch_half_the_time():
    lq, gt = one_hot_batch(8)
    rng = np.random.RandomState(1)
    lams, unchanged = [], 0
    for _ in range(400):
        lq_mixed, gt_mixed = mixup(lq, gt, preset="mirnetv2", rng=rng)
        if lq_mixed is lq:
            assert gt_mixed is gt
            unchanged += 1
            continue
        weights = {round(float(w), 6) for w in check_same_mix(lq, gt, lq_mixed, gt_mixed)[0] if w is not None}
        assert len(weights) <= 1
        lams += list(weights)
    assert 160 < unchanged < 240  # use_identity: "no mixup" is one of two equally likely choices
    assert scipy.stats.kstest(lams, scipy.stats.beta(1.2, 1.2).cdf).pvalue > 0.01
    with pytest.raises(ConfigError, match="unknown mixup preset 'restormer'; choose from mprnet, mirnetv2"):
        mixup(lq, gt, preset="restormer")


def test_mixup_on_paddle_tensors_matches_numpy():
    lq, gt = one_hot_batch(6)
    expected = mixup(lq, gt, preset="mprnet", rng=np.random.RandomState(3))
    got = mixup(paddle.to_tensor(lq), paddle.to_tensor(gt), preset="mprnet", rng=np.random.RandomState(3))
    assert all(isinstance(t, paddle.Tensor) for t in got)
    assert all(np.allclose(t.numpy(), e, atol=1e-6) for t, e in zip(got, expected))
    assert not np.allclose(expected[0], lq)
