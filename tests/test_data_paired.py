import os

import numpy as np
import paddle
import pytest

from ppir.data import PairedImageDataset, build_dataset
from ppir.utils.sorting import natural_key
from ppir.errors import ConfigError, DatasetError
from ppir.utils.image_io import read_image, write_image
from data_support import photo, photo16, write_pairs

OFFSET = 40 / 255


def test_pairs_by_name_not_by_position(tmp_path):
    # input names listed in another order, other extensions, and an extra non-image file
    names = ["img10", "img2", "b", "a"]
    write_pairs(tmp_path, names)
    for name in names:  # inputs as .bmp, targets stay .png: pairing goes by stem
        path = tmp_path / "input" / f"{name}.png"
        write_image(str(tmp_path / "input" / f"{name}.bmp"), read_image(str(path)))
        path.unlink()
    (tmp_path / "input" / "notes.txt").write_text("not an image")
    ds = PairedImageDataset(tmp_path, phase="val")
    assert ds.names == ["a", "b", "img2", "img10"]  # natural order
    for item in ds:
        assert np.allclose(item["gt"] - item["lq"], OFFSET, atol=1e-6), item["name"]


def test_missing_partner_is_one_error_naming_the_files(tmp_path):
    write_pairs(tmp_path, [f"{i:03d}" for i in range(9)])
    for i in range(7):
        os.remove(tmp_path / "target" / f"{i:03d}.png")
    with pytest.raises(DatasetError) as err:
        PairedImageDataset(tmp_path)
    message = str(err.value)
    assert "7 name(s) missing from" in message and str(tmp_path / "target") in message
    assert "000, 001, 002, 003, 004, ... (+2 more)" in message
    assert "\n" not in message


@pytest.mark.parametrize("case", ["missing root", "root is a file", "empty input", "no target folder"])
def test_bad_roots_fail_at_construction(tmp_path, case):
    root = tmp_path / "data"
    if case == "root is a file":
        root.write_text("x")
    elif case == "empty input":
        write_pairs(root, ["a"])
        for f in (root / "input").iterdir():
            f.unlink()
    elif case == "no target folder":
        write_image(str(root / "input" / "a.png"), photo())
    with pytest.raises(DatasetError) as err:
        PairedImageDataset(root)
    assert str(root) in str(err.value)


def test_unreadable_image_names_the_file_when_read(tmp_path):
    write_pairs(tmp_path, ["good", "bad"])
    (tmp_path / "input" / "bad.png").write_bytes(b"\x89PNG not really")
    ds = PairedImageDataset(tmp_path, phase="val")  # readability is checked per item
    assert ds[ds.names.index("good")]["name"] == "good"
    with pytest.raises(DatasetError, match="bad.png"):
        ds[ds.names.index("bad")]


def test_size_mismatch_names_both_files(tmp_path):
    write_image(str(tmp_path / "input" / "a.png"), photo(0, (20, 20)))
    write_image(str(tmp_path / "target" / "a.png"), photo(0, (20, 24)))
    with pytest.raises(DatasetError, match="differ in size"):
        PairedImageDataset(tmp_path, phase="val")[0]


def test_duplicate_stems_are_an_error(tmp_path):
    write_pairs(tmp_path, ["a"])
    write_image(str(tmp_path / "input" / "a.bmp"), photo())
    with pytest.raises(DatasetError, match="same name 'a'"):
        PairedImageDataset(tmp_path)


def test_training_crop_and_flips_are_identical_on_input_and_target(tmp_path):
    write_pairs(tmp_path, ["a", "b"], size=(40, 56))
    ds = PairedImageDataset(tmp_path, patch_size=16, repeat=50, seed=3)
    assert len(ds) == 100
    full = {item["name"]: item["gt"] for item in PairedImageDataset(tmp_path, phase="val")}
    for item in ds:
        assert item["lq"].shape == item["gt"].shape == (3, 16, 16)
        assert item["lq"].dtype == np.float32
        assert np.allclose(item["gt"] - item["lq"], OFFSET, atol=1e-6)
        assert _is_dihedral_window(item["gt"], full[item["name"]])


def _is_dihedral_window(patch, image):
    """Whether ``patch`` (CxHxW) is a flipped/rotated window of ``image``."""
    img = image.transpose(1, 2, 0)
    for k in range(4):
        for flip in (False, True):
            cand = np.rot90(patch.transpose(1, 2, 0), -k)
            cand = cand[:, ::-1] if flip else cand
            h, w = cand.shape[:2]
            for top in range(img.shape[0] - h + 1):
                for left in range(img.shape[1] - w + 1):
                    if np.array_equal(img[top : top + h, left : left + w], cand):
                        return True
    return False


def test_all_eight_flips_occur_uniformly(tmp_path):
    write_pairs(tmp_path, ["a"], size=(16, 16))
    ds = PairedImageDataset(tmp_path, patch_size=16, repeat=800, seed=0)
    image = PairedImageDataset(tmp_path, phase="val")[0]["gt"].transpose(1, 2, 0)
    variants = [np.rot90(image[:, ::-1] if m >= 4 else image, m % 4) for m in range(8)]
    counts = np.zeros(8, int)
    for item in ds:
        got = item["gt"].transpose(1, 2, 0)
        counts[[np.array_equal(got, v) for v in variants].index(True)] += 1
    assert counts.sum() == 800 and counts.min() > 60, counts  # expected 100 each


def test_small_images_are_reflect_padded_identically(tmp_path):
    write_pairs(tmp_path, ["tiny"], size=(10, 12))
    ds = PairedImageDataset(tmp_path, patch_size=16, augment=False)
    item = ds[0]
    clean = np.clip(photo(0, (10, 12)), 40, 255).astype(np.float32) / 255
    expected = np.pad(clean, ((0, 6), (0, 4), (0, 0)), mode="reflect")
    assert np.allclose(item["gt"].transpose(1, 2, 0), expected)
    assert np.allclose(item["gt"] - item["lq"], OFFSET, atol=1e-6)


def test_sixteen_bit_images_keep_their_precision(tmp_path):
    write_image(str(tmp_path / "input" / "a.png"), photo16(0))
    write_image(str(tmp_path / "target" / "a.png"), photo16(1))
    item = PairedImageDataset(tmp_path, phase="val")[0]
    assert np.allclose(item["lq"].transpose(1, 2, 0), photo16(0) / 65535, atol=1e-7)
    assert np.allclose(item["gt"].transpose(1, 2, 0), photo16(1) / 65535, atol=1e-7)


def test_validation_gives_whole_images_or_a_centre_crop(tmp_path):
    write_pairs(tmp_path, ["a"], size=(30, 50))
    whole = PairedImageDataset(tmp_path, phase="val", patch_size=8, repeat=5)
    assert len(whole) == 1 and whole[0]["gt"].shape == (3, 30, 50)
    assert np.array_equal(whole[0]["gt"], whole[0]["gt"])
    centre = PairedImageDataset(tmp_path, phase="test", center_crop=16)[0]
    assert np.array_equal(centre["gt"], whole[0]["gt"][:, 7:23, 17:33])


def test_saturation_jitter_is_shared_and_changes_colour(tmp_path):
    img = photo(0, size=(24, 24))  # the patch is the whole photo: only the colour can change
    for d in ("input", "target"):
        write_image(str(tmp_path / d / "a.png"), img)
    ds = PairedImageDataset(tmp_path, patch_size=24, augment=False, saturation_jitter=0.2, saturation_prob=1.0, seed=1)
    plain = PairedImageDataset(tmp_path, phase="val")[0]["gt"]
    changed = 0
    for _ in range(10):
        item = ds[0]
        assert np.array_equal(item["lq"], item["gt"])
        gray = lambda x: (x * np.array([0.299, 0.587, 0.114])[:, None, None]).sum(0)  # noqa: E731
        assert np.allclose(gray(item["gt"]), gray(plain), atol=2e-3)  # luma is kept
        changed += not np.allclose(item["gt"], plain, atol=1e-3)
    assert changed == 10


def test_same_seed_same_samples_and_global_rng_follows_numpy_seed(tmp_path):
    write_pairs(tmp_path, ["a", "b"], size=(40, 40))
    first = [PairedImageDataset(tmp_path, patch_size=8, seed=7)[i]["gt"] for i in (0, 1, 0)]
    again = [PairedImageDataset(tmp_path, patch_size=8, seed=7)[i]["gt"] for i in (0, 1, 0)]
    assert all(np.array_equal(x, y) for x, y in zip(first, again))
    ds = PairedImageDataset(tmp_path, patch_size=8)
    np.random.seed(5)
    a = [ds[0]["gt"] for _ in range(3)]
    np.random.seed(5)
    b = [ds[0]["gt"] for _ in range(3)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], a[1]) or not np.array_equal(a[1], a[2])


def _epoch(loader):
    return [(batch["name"][0], batch["gt"].numpy()) for batch in loader]


def test_workers_get_distinct_repeatable_streams(tmp_path):
    write_pairs(tmp_path, ["a"], size=(48, 48))
    ds = PairedImageDataset(tmp_path, patch_size=8, augment=False, repeat=6)
    loader = paddle.io.DataLoader(ds, batch_size=1, shuffle=False, num_workers=2)
    np.random.seed(11)
    run1 = _epoch(loader)
    np.random.seed(11)
    run2 = _epoch(loader)
    assert [n for n, _ in run1] == ["a"] * 6
    assert all(np.array_equal(x, y) for (_, x), (_, y) in zip(run1, run2))
    # worker 0 serves items 0, 2, 4 and worker 1 items 1, 3, 5: their crops must differ
    assert not all(np.array_equal(run1[i][1], run1[i + 1][1]) for i in (0, 2, 4))


def test_build_dataset_checks_names_and_options(tmp_path):
    write_pairs(tmp_path, ["a"])
    ds = build_dataset({"name": "PairedImageDataset", "root": str(tmp_path)}, phase="val", sigma=3)
    assert ds.phase == "val" and len(ds) == 1
    with pytest.raises(ConfigError, match="Did you mean 'GoPro'"):
        build_dataset({"name": "Gopro", "root": str(tmp_path)})
    with pytest.raises(ConfigError, match="unknown option.*patchsize"):
        build_dataset({"name": "PairedImageDataset", "root": str(tmp_path), "patchsize": 8})
    with pytest.raises(ConfigError, match="phase"):
        build_dataset({"name": "PairedImageDataset", "root": str(tmp_path), "phase": "training"})


def test_natural_order():
    assert sorted(["a10", "a2", "A1", "b"], key=natural_key) == ["A1", "a2", "a10", "b"]
