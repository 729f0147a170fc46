"""tools/generate_patches_sidd.py, run as a user runs it, on a SIDD-Medium-style folder and on a
paired input/ + target/ folder."""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from ppir.data import SIDD
from ppir.data.patches import find_pairs
from ppir.utils.image_io import read_image, write_image
from data_support import photo, photo16, windows_equal_to

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(REPO, "tools", "generate_patches_sidd.py")
SCENES = ["0001_001_S6_00100_00060_3200_L", "0002_001_S6_00100_00020_3200_N"]
SIZE = (40, 48)


def cut(*args):
    env = {k: v for k, v in os.environ.items() if k != "PPIR_DEBUG"}
    return subprocess.run([sys.executable, TOOL, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def noisy_of(clean):
    """The 'noisy' partner: the inverted image, so a patch pair matches only at the same place."""
    return (255 - clean).astype(np.uint8)


def write_sidd_medium(src, prefix=True):
    """SIDD-Medium sRGB: two captures per scene folder, ``0001_NOISY_SRGB_010.PNG`` +
    ``0001_GT_SRGB_010.PNG`` (the scene number first; ``prefix=False`` leaves it out)."""
    images = {}
    for s, scene in enumerate(SCENES):
        number = scene[:5] if prefix else ""
        for c, capture in enumerate(["010", "011"]):
            clean = photo(2 * s + c, SIZE)
            write_image(str(src / scene / f"{number}GT_SRGB_{capture}.PNG"), clean)
            write_image(str(src / scene / f"{number}NOISY_SRGB_{capture}.PNG"), noisy_of(clean))
            images[f"{scene}_SRGB_{capture}"] = clean
    return images


@pytest.mark.parametrize("prefix", [True, False])
def test_sidd_medium_names_pair_per_scene_and_capture(tmp_path, prefix):
    images = write_sidd_medium(tmp_path, prefix)
    pairs = find_pairs(str(tmp_path))
    assert [key for key, _, _ in pairs] == list(images)
    for key, noisy, clean in pairs:
        assert "NOISY_SRGB" in noisy and "GT_SRGB" in clean and noisy.replace("NOISY", "GT") == clean
        assert np.array_equal(read_image(clean), images[key])


def listing(folder):
    return sorted(os.listdir(folder))


def test_random_patches_from_sidd_medium_resume(tmp_path):
    images = write_sidd_medium(tmp_path / "Data")
    dst = tmp_path / "SIDD" / "train"
    run = cut("--src", tmp_path / "Data", "--dst", dst, "--ps", 16, "--num_patches", 3, "--num_cores", 2, "--quiet")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith(f"4 image pairs: 12 patches written, 0 already there, in {dst}")
    names = listing(dst / "input")
    assert names == listing(dst / "target") and len(names) == 12
    assert names[:3] == [f"{SCENES[0]}_SRGB_010_{n:04d}.png" for n in (1, 2, 3)]
    for name in names:
        key = name[: -len("_0001.png")]
        target, inp = read_image(str(dst / "target" / name)), read_image(str(dst / "input" / name))
        assert target.shape == (16, 16, 3) and target.dtype == np.uint8
        assert np.array_equal(inp, noisy_of(target))  # input and target cut at the same place
        assert len(windows_equal_to(target, images[key])) == 1  # a window of its own image
    ds = SIDD(tmp_path / "SIDD", split="train", phase="val")  # the output is the SIDD preset's layout
    assert len(ds) == 12 and ds[0]["lq"].shape == (3, 16, 16)

    stamps = {name: os.stat(dst / "input" / name).st_mtime_ns for name in names}
    again = cut("--src", tmp_path / "Data", "--dst", dst, "--ps", 16, "--num_patches", 3, "--num_cores", 2, "--quiet")
    assert "4 image pairs: 0 patches written, 12 already there" in again.stdout
    assert stamps == {name: os.stat(dst / "input" / name).st_mtime_ns for name in names}

    lost = names[4]
    before = read_image(str(dst / "input" / lost))
    os.remove(dst / "input" / lost)
    again = cut("--src", tmp_path / "Data", "--dst", dst, "--ps", 16, "--num_patches", 3, "--num_cores", 1, "--quiet")
    assert "4 image pairs: 1 patches written, 11 already there" in again.stdout
    assert np.array_equal(read_image(str(dst / "input" / lost)), before)  # the same window again
    changed = [n for n in names if n != lost and os.stat(dst / "input" / n).st_mtime_ns != stamps[n]]
    assert changed == []

    more = cut("--src", tmp_path / "Data", "--dst", dst, "--ps", 16, "--num_patches", 5, "--num_cores", 2, "--quiet")
    assert "4 image pairs: 8 patches written, 12 already there" in more.stdout  # the first 3 are kept
    assert len(listing(dst / "input")) == 20 and not any(n.endswith(".tmp") for n in listing(dst / "input"))


def test_grid_patches_from_paired_folders(tmp_path):
    src = tmp_path / "src"
    big, small = photo16(0, SIZE), photo(1, (10, 12))  # one 16-bit image, one smaller than a patch
    for name, clean in [("big", big), ("small", small)]:
        write_image(str(src / "target" / f"{name}.png"), clean)
        write_image(str(src / "input" / f"{name}.png"), clean // 2)
    dst = tmp_path / "out"
    run = cut("--src", src, "--dst", dst, "--ps", 16, "--overlap", 4, "--num_cores", 2, "--quiet")
    assert run.returncode == 0, run.stderr
    # stride 12: rows start at 0, 12 and 24 (flush with the bottom), columns at 0, 12, 24, 32
    starts = [(top, left) for top in (0, 12, 24) for left in (0, 12, 24, 32)]
    assert "2 image pairs: 13 patches written, 0 already there" in run.stdout
    assert listing(dst / "target") == [f"big_{n:04d}.png" for n in range(1, 13)] + ["small_0001.png"]
    for number, (top, left) in enumerate(starts, start=1):
        target = read_image(str(dst / "target" / f"big_{number:04d}.png"))
        assert target.dtype == np.uint16  # 16 bit kept
        assert np.array_equal(target, big[top : top + 16, left : left + 16])
        assert np.array_equal(read_image(str(dst / "input" / f"big_{number:04d}.png")), target // 2)
    assert np.array_equal(read_image(str(dst / "target" / "small_0001.png")), small)  # kept whole
    again = cut("--src", src, "--dst", dst, "--ps", 16, "--overlap", 4, "--num_cores", 1, "--quiet")
    assert "2 image pairs: 0 patches written, 13 already there" in again.stdout


def load_tool():
    spec = importlib.util.spec_from_file_location("generate_patches_sidd", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("case", ["empty", "scene without images", "bad overlap"])
def test_bad_source_is_a_one_line_error(tmp_path, case, capsys, monkeypatch):
    monkeypatch.delenv("PPIR_DEBUG", raising=False)
    src = tmp_path / "Data"
    src.mkdir()
    args = ["--ps", "16", "--num_patches", "2"]
    if case == "scene without images":
        (src / SCENES[0]).mkdir()
    if case == "bad overlap":
        write_sidd_medium(src)
        args = ["--ps", "16", "--overlap", "16"]
    assert load_tool().main(["--src", str(src), "--dst", str(tmp_path / "out"), *args, "--quiet"]) == 2
    out, err = capsys.readouterr()
    expected = {
        "empty": f"error: {src}: no scene folders",
        "scene without images": f"error: {src / SCENES[0]}: no images whose name matches '.*NOISY_(.+)'",
        "bad overlap": "error: overlap must be in 0..15 for patches of 16, got 16",
    }[case]
    assert out == "" and err.startswith(expected) and err.count("\n") == 1


def test_missing_source_exits_non_zero_with_one_line(tmp_path):
    src = tmp_path / "SIDD_Medium_Srgb" / "Data"
    run = cut("--src", src, "--dst", tmp_path / "out", "--ps", 16, "--quiet")
    assert run.returncode == 2 and run.stdout == "" and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1] == f"error: {src}: SIDD-Medium folder not found"
    assert not os.path.exists(tmp_path / "out")
