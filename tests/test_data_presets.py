"""Every registered benchmark preset reads a tiny on-disk copy of its real folder layout, and every
registered dataset refuses an empty root when it is built (not with a StopIteration later)."""
import os

import numpy as np
import pytest

from ppir.data import DATASETS, BenchmarkDataset, build_dataset
from ppir.errors import ConfigError, DatasetError
from ppir.utils.image_io import write_image
from data_support import chw, clean_and_degraded, photo16, write_pairs

NAMES = ["scene2", "scene10", "scene1"]  # natural order: scene1, scene2, scene10
ORDERED = ["scene1", "scene2", "scene10"]
RAIN_SETS = ["Test100", "Rain100H", "Rain100L", "Test1200", "Test2800"]

# (registry name, options, the split's folder under root, input folder, target folder), written
# from the datasets' own releases (docs/datasets.md), not from the presets' tables
LAYOUTS = [
    ("GoPro", {"split": "train"}, "train", "input", "target"),
    ("GoPro", {"split": "test"}, "test", "input", "target"),
    ("HIDE", {"split": "test"}, "test", "input", "target"),
    ("RealBlur_J", {"split": "train"}, "train", "input", "target"),
    ("RealBlur_J", {"split": "test"}, "test", "input", "target"),
    ("RealBlur_R", {"split": "train"}, "train", "input", "target"),
    ("RealBlur_R", {"split": "test"}, "test", "input", "target"),
    ("Rain13K", {"split": "train"}, "train", "input", "target"),
    *[("Rain13K", {"split": name}, f"test/{name}", "input", "target") for name in RAIN_SETS],
    ("SIDD", {"split": "train"}, "train", "input", "target"),
    ("SIDD", {"split": "val"}, "val", "input", "target"),
    ("LOL", {"split": "train"}, "our485", "low", "high"),
    ("LOL", {"split": "test"}, "eval15", "low", "high"),
    ("FiveK", {"split": "train"}, "train", "input", "target"),
    ("FiveK", {"split": "val"}, "val", "input", "target"),
    ("FiveK", {"split": "test"}, "test", "input", "target"),
]


def _layout_id(case):
    name, options, *_ = case
    return "-".join([name, *map(str, options.values())])


@pytest.mark.parametrize("case", LAYOUTS, ids=map(_layout_id, LAYOUTS))
def test_preset_reads_its_layout_pairs_by_name(tmp_path, case):
    name, options, folder, input_dir, target_dir = case
    write_pairs(tmp_path / "data" / folder, NAMES, input_dir, target_dir)
    cfg = {"name": name, "root": str(tmp_path / "data"), **options}
    ds = build_dataset(dict(cfg, phase="val"))
    assert ds.names == ORDERED and len(ds) == 3
    for item in ds:
        clean, degraded = clean_and_degraded(NAMES.index(item["name"]))
        assert item["gt"].dtype == item["lq"].dtype == np.float32
        assert np.array_equal(item["gt"], chw(clean)) and np.array_equal(item["lq"], chw(degraded))
    # the default phase: random crops for the training split, whole images for the others
    ds = build_dataset(dict(cfg, patch_size=16, seed=0))
    item = ds[0]
    if options["split"] == "train":
        assert ds.phase == "train" and item["gt"].shape == (3, 16, 16)
        assert np.allclose(item["gt"] - item["lq"], 40 / 255, atol=1e-6)  # still the same pair
    else:
        assert ds.phase == "val" and item["gt"].shape == (3, 24, 32)
    assert 0.0 <= item["lq"].min() and item["gt"].max() <= 1.0


@pytest.mark.parametrize("split", ["train", "test"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_realsr_pairs_lr_and_hr_names_per_scale(tmp_path, split, scale):
    folder = tmp_path / "RealSR" / split / f"x{scale}"
    ids = ["Canon_010", "Nikon_002", "Canon_002"]
    for index, key in enumerate(ids):
        clean, degraded = clean_and_degraded(index)
        write_image(str(folder / "input" / f"{key}_LR{scale}.png"), degraded)
        write_image(str(folder / "target" / f"{key}_HR.png"), clean)
    cfg = {"name": "RealSR", "root": str(tmp_path / "RealSR"), "split": split}
    ds = build_dataset(dict(cfg, scale=scale), phase="val")
    assert ds.names == ["Canon_002", "Canon_010", "Nikon_002"]
    for item in ds:
        clean, degraded = clean_and_degraded(ids.index(item["name"]))
        assert np.array_equal(item["gt"], chw(clean)) and np.array_equal(item["lq"], chw(degraded))
    other = 2 if scale != 2 else 3
    with pytest.raises(DatasetError, match=f"x{other}"):  # each scale reads its own folder
        build_dataset(dict(cfg, scale=other))


def test_realsr_also_takes_equal_names_and_checks_the_scale(tmp_path):
    write_pairs(tmp_path / "train" / "x4", NAMES)
    ds = build_dataset({"name": "RealSR", "root": str(tmp_path), "split": "train", "scale": 4}, phase="val")
    assert ds.names == ORDERED
    with pytest.raises(ConfigError, match="scale must be 2, 3 or 4"):
        build_dataset({"name": "RealSR", "root": str(tmp_path), "scale": 8})


def _write_dpdd(folder, names):
    """16-bit views and target whose low bytes matter; the right view differs from the left."""
    for index, name in enumerate(names):
        target = photo16(index)
        write_image(str(folder / "target" / f"{name}.png"), target)
        write_image(str(folder / "inputL" / f"{name}.png"), target // 2)
        write_image(str(folder / "inputR" / f"{name}.png"), target // 3)


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_dpdd_stacks_two_sixteen_bit_views(tmp_path, split):
    _write_dpdd(tmp_path / split, NAMES)
    ds = build_dataset({"name": "DPDD", "root": str(tmp_path), "split": split}, phase="val")
    assert ds.names == ORDERED
    for item in ds:
        target = photo16(NAMES.index(item["name"]))
        assert item["lq"].shape == (6, 24, 32) and item["gt"].shape == (3, 24, 32)
        # every 16-bit level survives: scaling back gives the stored integers exactly
        assert np.array_equal(np.round(item["gt"] * 65535), chw(target, 1.0))
        assert np.array_equal(np.round(item["lq"][:3] * 65535), chw(target // 2, 1.0))
        assert np.array_equal(np.round(item["lq"][3:] * 65535), chw(target // 3, 1.0))
    train = build_dataset({"name": "DPDD", "root": str(tmp_path), "split": split, "patch_size": 16, "seed": 1})
    if split == "train":
        item = train[0]
        assert item["lq"].shape == (6, 16, 16) and item["gt"].shape == (3, 16, 16)
        # the same window and flip of all three images
        target = np.round(item["gt"] * 65535)
        assert np.array_equal(np.round(item["lq"][:3] * 65535), target // 2)
        assert np.array_equal(np.round(item["lq"][3:] * 65535), target // 3)


def test_dpdd_indoor_outdoor_subsets_use_one_based_natural_order(tmp_path):
    names = ["img10", "img2", "img1", "img3"]  # natural order: img1, img2, img3, img10
    _write_dpdd(tmp_path / "test", names)
    np.save(tmp_path / "test" / "indoor_labels.npy", np.array([1, 4]))
    np.save(tmp_path / "test" / "outdoor_labels.npy", np.array([[2], [3]]))  # the real files are columns
    root = str(tmp_path)
    whole = build_dataset({"name": "DPDD", "root": root, "split": "test"})
    assert whole.subsets == {"indoor": ["img1", "img10"], "outdoor": ["img2", "img3"]}
    indoor = build_dataset({"name": "DPDD", "root": root, "split": "test", "subset": "indoor"})
    assert [item["name"] for item in indoor] == ["img1", "img10"]
    item = indoor[1]
    assert np.array_equal(np.round(item["gt"] * 65535), chw(photo16(names.index("img10")), 1.0))
    outdoor = build_dataset({"name": "DPDD", "root": root, "split": "test", "subset": "outdoor"})
    assert outdoor.names == ["img2", "img3"] and len(outdoor) == 2
    with pytest.raises(ConfigError, match="subset must be one of indoor, outdoor"):
        build_dataset({"name": "DPDD", "root": root, "split": "test", "subset": "kitchen"})
    np.save(tmp_path / "test" / "outdoor_labels.npy", np.array([0, 5]))
    with pytest.raises(DatasetError, match=r"outdoor_labels.npy: labels must be 1-based indices in 1..4, found 0..5"):
        build_dataset({"name": "DPDD", "root": root, "split": "test"})
    # a damaged outdoor file does not stop indoor scoring
    indoor = build_dataset({"name": "DPDD", "root": root, "split": "test", "subset": "indoor"})
    assert indoor.names == ["img1", "img10"] and indoor.subsets == {"indoor": ["img1", "img10"]}
    os.remove(tmp_path / "test" / "outdoor_labels.npy")
    os.remove(tmp_path / "test" / "indoor_labels.npy")
    with pytest.raises(DatasetError, match="indoor_labels.npy: label file not found"):
        build_dataset({"name": "DPDD", "root": root, "split": "test", "subset": "indoor"})


def test_every_preset_has_a_layout_test():
    presets = {name for name in DATASETS.names() if issubclass(DATASETS.get(name), BenchmarkDataset)}
    covered = {case[0] for case in LAYOUTS} | {"RealSR", "DPDD"}
    assert presets == covered


def test_unknown_split_lists_the_splits(tmp_path):
    with pytest.raises(ConfigError, match="Rain13K: split must be one of train, Test100, Rain100H"):
        build_dataset({"name": "Rain13K", "root": str(tmp_path), "split": "Rain100"})
    with pytest.raises(ConfigError, match="LOL: split must be one of train, test; got 'val'"):
        build_dataset({"name": "LOL", "root": str(tmp_path), "split": "val"})


def _empty_layout(root, name):
    """The folders a dataset reads, created with no file in them."""
    cls = DATASETS.get(name)
    if issubclass(cls, BenchmarkDataset):
        split = next(iter(cls.splits))
        folder = os.path.join(root, cls.splits[split], "x4" if name == "RealSR" else "")
        inputs = [cls.inputs] if isinstance(cls.inputs, str) else cls.inputs
        for sub in [*inputs, cls.target]:
            os.makedirs(os.path.join(folder, sub))
    elif name == "PairedImageDataset":
        for sub in ("input", "target"):
            os.makedirs(os.path.join(root, sub))
    elif name == "DND":
        os.makedirs(os.path.join(root, "images_srgb"))


# Every dataset read from a root folder; NamedSubset wraps another dataset's config instead.
ROOTED_DATASETS = [name for name in DATASETS.names() if name != "NamedSubset"]


@pytest.mark.parametrize("folders", ["no folders", "empty folders"])
@pytest.mark.parametrize("name", ROOTED_DATASETS)
def test_an_empty_root_fails_at_construction(tmp_path, name, folders):
    root = tmp_path / "empty"
    root.mkdir()
    if folders == "empty folders":
        _empty_layout(str(root), name)
    with pytest.raises(DatasetError) as err:
        build_dataset({"name": name, "root": str(root)})
    message = str(err.value)
    assert str(root) in message and "\n" not in message
