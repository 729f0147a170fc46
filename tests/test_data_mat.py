"""SIDD validation blocks and DND crops read from .mat files laid out as the real downloads are,
and the result files written for evaluate_SIDD.m and the SIDD and DND servers."""
import os

import h5py
import numpy as np
import pytest
import scipy.io

from ppir.data import (
    DND, DNDSubmissionWriter, SIDDValidation, read_dnd_boxes, write_dnd_submission, write_sidd_submission,
)  # fmt: skip
from ppir.errors import DatasetError
from data_support import MATLAB_V73_HEADER, chw, save_mat_v73, write_matlab_header

IMAGES, BLOCKS, SIZE = 2, 3, 16


def sidd_blocks(seed=0):
    """(noisy, gt): images x blocks x 16 x 16 x 3 uint8, different in every block."""
    rng = np.random.RandomState(seed)
    gt = rng.randint(30, 220, size=(IMAGES, BLOCKS, SIZE, SIZE, 3)).astype(np.uint8)
    noisy = np.clip(gt.astype(int) + rng.randint(-25, 26, gt.shape), 0, 255).astype(np.uint8)
    return noisy, gt


def write_sidd(folder, noisy, gt, v73=False):
    variables = {"ValidationNoisyBlocksSrgb": noisy, "ValidationGtBlocksSrgb": gt}
    for key, value in variables.items():
        path = os.path.join(folder, key + ".mat")
        if v73:
            save_mat_v73(path, {key: value})
        else:
            os.makedirs(folder, exist_ok=True)
            scipy.io.savemat(path, {key: value})
    return folder


@pytest.mark.parametrize("v73", [False, True], ids=["classic", "v7.3"])
def test_sidd_validation_blocks_in_image_block_order(tmp_path, v73):
    noisy, gt = sidd_blocks()
    ds = SIDDValidation(write_sidd(str(tmp_path), noisy, gt, v73))
    if v73:
        assert open(tmp_path / "ValidationGtBlocksSrgb.mat", "rb").read(19) == MATLAB_V73_HEADER[:19]
    assert ds.shape == (IMAGES, BLOCKS, SIZE, SIZE, 3) and len(ds) == 6
    names = [item["name"] for item in ds]
    assert names == ["0001_01", "0001_02", "0001_03", "0002_01", "0002_02", "0002_03"]
    for index, item in enumerate(ds):
        image, block = divmod(index, BLOCKS)
        assert item["lq"].dtype == np.float32 and item["lq"].shape == (3, SIZE, SIZE)
        assert np.array_equal(item["lq"], chw(noisy[image, block]))
        assert np.array_equal(item["gt"], chw(gt[image, block]))


def test_sidd_noisy_only_and_bad_files(tmp_path):
    noisy, gt = sidd_blocks()
    root = write_sidd(str(tmp_path / "sidd"), noisy, gt)
    os.rename(os.path.join(root, "ValidationNoisyBlocksSrgb.mat"), os.path.join(root, "BenchmarkNoisyBlocksSrgb.mat"))
    with pytest.raises(DatasetError, match="ValidationNoisyBlocksSrgb.mat: MATLAB file not found"):
        SIDDValidation(root)
    os.rename(os.path.join(root, "BenchmarkNoisyBlocksSrgb.mat"), os.path.join(root, "other.mat"))
    with pytest.raises(DatasetError, match=r"other.mat: no variable 'other' \(found: ValidationNoisyBlocksSrgb\)"):
        SIDDValidation(root, noisy_file="other.mat", gt_file=None)
    scipy.io.savemat(os.path.join(root, "Bench.mat"), {"Bench": noisy})
    items = list(SIDDValidation(root, noisy_file="Bench.mat", gt_file=None))
    assert len(items) == 6 and "gt" not in items[0]
    assert np.array_equal(items[4]["lq"], chw(noisy[1, 1])) and items[4]["name"] == "0002_02"
    scipy.io.savemat(os.path.join(root, "ValidationGtBlocksSrgb.mat"), {"ValidationGtBlocksSrgb": gt[:, :2]})
    with pytest.raises(DatasetError, match=r"shape \(2, 2, 16, 16, 3\) differs from Bench.mat's \(2, 3, 16, 16, 3\)"):
        SIDDValidation(root, noisy_file="Bench.mat")
    scipy.io.savemat(os.path.join(root, "Flat.mat"), {"Flat": gt[0, 0]})
    with pytest.raises(DatasetError, match="expected images x blocks x H x W x 3"):
        SIDDValidation(root, noisy_file="Flat.mat", gt_file=None)


def test_sidd_submission_round_trip(tmp_path):
    noisy, _ = sidd_blocks()
    restored = noisy.astype(np.float32) / 255 * 1.4 - 0.2  # values outside [0, 1] to be clipped
    path = write_sidd_submission(restored, str(tmp_path / "mat" / "Idenoised.mat"))
    assert path.endswith("Idenoised.mat") and sorted(os.listdir(tmp_path / "mat")) == ["Idenoised.mat"]
    saved = scipy.io.loadmat(path)
    assert [k for k in saved if not k.startswith("__")] == ["Idenoised"]
    result = saved["Idenoised"]
    assert result.dtype == np.float32 and result.shape == (IMAGES, BLOCKS, SIZE, SIZE, 3)
    assert result.min() == 0.0 and result.max() == 1.0
    assert np.array_equal(result, np.clip(restored, 0, 1))

    # the same file from the dataset's named items, the way an evaluation loop collects them
    ds = SIDDValidation(write_sidd(str(tmp_path / "sidd"), *sidd_blocks()))
    named = {item["name"]: item["lq"].transpose(1, 2, 0) * 1.4 - 0.2 for item in ds}
    again = scipy.io.loadmat(write_sidd_submission(named, str(tmp_path / "again.mat")))["Idenoised"]
    assert np.allclose(again, result, atol=1e-6)


def test_sidd_submission_gaps_name_the_blocks(tmp_path):
    named = {f"{i:04d}_{b:02d}": np.zeros((SIZE, SIZE, 3)) for i in (1, 2) for b in (1, 2, 3)}
    del named["0001_02"], named["0002_03"]
    with pytest.raises(DatasetError, match=r"missing 2 block\(s\): 0001_02, 0002_03$"):
        write_sidd_submission(named, str(tmp_path / "Idenoised.mat"))
    assert not os.path.exists(tmp_path / "Idenoised.mat")
    with pytest.raises(DatasetError, match="not a block name"):
        write_sidd_submission({"img1": np.zeros((SIZE, SIZE, 3))}, str(tmp_path / "Idenoised.mat"))
    with pytest.raises(DatasetError, match="images x blocks x H x W x 3"):
        write_sidd_submission(np.zeros((2, SIZE, SIZE, 3)), str(tmp_path / "Idenoised.mat"))


# DND: info.mat and images_srgb/%04d.mat are MATLAB v7.3. info/boundingboxes is a 1 x images
# array of object references, each to a boxes x 4 table of 1-based inclusive
# [top, left, bottom, right] (stored transposed, 4 x boxes, like every v7.3 array).
DND_BOXES = 20
DND_SHAPE = (40, 60, 3)


def dnd_tables(images):
    """Boxes of several sizes and positions, none touching the image's first row or column."""
    tables = []
    for image in range(images):
        k = np.arange(DND_BOXES)
        tops, lefts = 2 + (k % 5) * 6 + image, 3 + (k // 5) * 12
        heights, widths = 4 + k % 3, 5 + k % 4
        tables.append(np.stack([tops, lefts, tops + heights - 1, lefts + widths - 1], axis=1))
    return tables


def dnd_image(image):
    """Every pixel different, so a crop shows where it was cut."""
    values = np.arange(np.prod(DND_SHAPE), dtype=np.float64).reshape(DND_SHAPE)
    return (values / values.size + image / 10).astype(np.float32)


def write_dnd(folder, images=2):
    os.makedirs(os.path.join(folder, "images_srgb"))
    info_path = os.path.join(folder, "info.mat")
    with h5py.File(info_path, "w", userblock_size=512) as info:
        tables = [t.T.astype(np.float64) for t in dnd_tables(images)]  # MATLAB doubles, transposed
        refs = [info.create_dataset(f"#refs#/{i}", data=table).ref for i, table in enumerate(tables)]
        info.create_group("info").create_dataset("boundingboxes", data=np.array([refs], dtype=h5py.ref_dtype))
    write_matlab_header(info_path)
    for image in range(images):
        save_mat_v73(os.path.join(folder, "images_srgb", f"{image + 1:04d}.mat"), {"InoisySRGB": dnd_image(image)})
    return folder


def test_dnd_boxes_and_crops(tmp_path):
    root = write_dnd(str(tmp_path / "DND"))
    boxes = read_dnd_boxes(os.path.join(root, "info.mat"))
    assert len(boxes) == 2 and all(np.array_equal(b, t) for b, t in zip(boxes, dnd_tables(2)))
    assert boxes[0].dtype == np.int64 and boxes[0].shape == (DND_BOXES, 4)
    ds = DND(root)
    assert len(ds) == 40
    for index in (0, 7, 19, 20, 39):
        item = ds[index]
        image, box = divmod(index, DND_BOXES)
        top, left, bottom, right = dnd_tables(2)[image][box]
        expected = dnd_image(image)[top - 1 : bottom, left - 1 : right]  # MATLAB's I(top:bottom, left:right, :)
        assert item["name"] == f"{image + 1:04d}_{box + 1:02d}" and "gt" not in item
        assert item["lq"].shape == (3, bottom - top + 1, right - left + 1)
        assert np.array_equal(item["lq"], np.transpose(expected, (2, 0, 1)))


def test_dnd_missing_files(tmp_path):
    root = write_dnd(str(tmp_path / "DND"))
    os.remove(os.path.join(root, "images_srgb", "0002.mat"))
    with pytest.raises(DatasetError, match=r"DND images not found \(1\): .*0002.mat"):
        DND(root)
    scipy.io.savemat(os.path.join(root, "info.mat"), {"info": np.zeros(3)})
    with pytest.raises(DatasetError, match="expected a MATLAB v7.3"):
        DND(root)


def _crops(images, boxes=DND_BOXES):
    rng = np.random.RandomState(2)
    names = [f"{i:04d}_{b:02d}" for i in range(1, images + 1) for b in range(1, boxes + 1)]
    return {name: rng.uniform(-0.2, 1.2, (4 + int(name[-2:]) % 3, 6, 3)) for name in names}


def test_dnd_submission_files(tmp_path):
    crops = _crops(2)
    paths = write_dnd_submission(crops, str(tmp_path / "submit"))
    assert sorted(os.path.basename(p) for p in paths) == ["0001.mat", "0002.mat"]
    for image, path in enumerate(sorted(paths), start=1):
        saved = scipy.io.loadmat(path)
        assert sorted(k for k in saved if not k.startswith("__")) == ["Idenoised", "eval_version", "israw"]
        assert saved["israw"].item() == 0 and saved["eval_version"].item() == "1.0"
        cells = saved["Idenoised"]
        assert cells.dtype == object and cells.size == DND_BOXES
        for box, cell in enumerate(cells.ravel(), start=1):
            expected = np.clip(crops[f"{image:04d}_{box:02d}"], 0, 1).astype(np.float32)
            assert cell.dtype == np.float32 and np.array_equal(cell, expected)


def test_dnd_writer_writes_each_image_when_complete_and_names_gaps(tmp_path):
    writer = DNDSubmissionWriter(str(tmp_path), boxes_per_image=3)
    crops = _crops(2, boxes=3)
    for name in ["0002_01", "0001_01", "0001_02", "0002_02", "0001_03"]:
        writer.add(name, crops[name])
    assert os.listdir(tmp_path) == ["0001.mat"]  # image 1 is complete and already on disk
    assert scipy.io.loadmat(tmp_path / "0001.mat")["Idenoised"].size == 3
    with pytest.raises(DatasetError, match=r"missing 1 crop\(s\): 0002_03"):
        writer.close()
    with pytest.raises(DatasetError, match="images have 3 crops"):
        writer.add("0003_04", crops["0001_01"])


def test_sidd_submission_grid_catches_missing_trailing_blocks(tmp_path):
    named = {f"{i:04d}_{b:02d}": np.zeros((SIZE, SIZE, 3)) for i in (1, 2) for b in (1, 2, 3)}
    out = str(tmp_path / "Idenoised.mat")
    with pytest.raises(DatasetError, match=r"missing 3 block\(s\): 0003_01, 0003_02, 0003_03$"):
        write_sidd_submission(named, out, grid=(3, 3))
    with pytest.raises(DatasetError, match=r"missing 2 block\(s\): 0001_04, 0002_04$"):
        write_sidd_submission(named, out, grid=(2, 4))
    with pytest.raises(DatasetError, match="beyond 1 images x 3 blocks"):
        write_sidd_submission(named, out, grid=(1, 3))
    assert not os.path.exists(out)
    assert scipy.io.loadmat(write_sidd_submission(named, out, grid=(2, 3)))["Idenoised"].shape == (2, 3, SIZE, SIZE, 3)
