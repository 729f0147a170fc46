"""``tools/check_dataset.py`` on a planted set: every problem kind is found, named by file, one
line each; exit status 0 / 1 / 2; --json; --config-file; the cheap (header) part."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from ppir.data.checks import KINDS, check_paired_root, estimate_shift
from ppir.data.synthetic import skimage_photo
from ppir.utils.image_io import write_image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(REPO, "tools", "check_dataset.py")
SIDE = 96


def crop(name, side=SIDE):
    photo = skimage_photo(name)
    top, left = (photo.shape[0] - side) // 2, (photo.shape[1] - side) // 2
    return np.ascontiguousarray(photo[top : top + side, left : left + side])


def noisy(img, seed):
    rng = np.random.RandomState(seed)
    return np.clip(img + rng.normal(0, 15, img.shape), 0, 255).astype(np.uint8)


def write_pair(root, name, lq, gt, ext=".png"):
    write_image(os.path.join(root, "input", name + ext), lq)
    write_image(os.path.join(root, "target", name + ".png"), gt)


def clean_set(root):
    for i, photo in enumerate(("astronaut", "coffee", "chelsea", "rocket")):
        gt = crop(photo)
        write_pair(root, f"{i:02d}_{photo}", noisy(gt, i), gt)
    return root


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = str(clean_set(tmp_path_factory.mktemp("planted")))
    gt = crop("camera")
    write_image(os.path.join(root, "input", "orphan.png"), noisy(gt, 9))  # no target
    write_image(os.path.join(root, "target", "lonely.png"), gt)  # no input
    write_pair(root, "truncated", noisy(gt, 10), gt)
    path = os.path.join(root, "input", "truncated.png")
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])
    write_pair(root, "cut", noisy(crop("brick"), 11), crop("brick"), ext=".jpg")
    path = os.path.join(root, "input", "cut.jpg")
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: len(data) * 2 // 3])
    write_image(os.path.join(root, "input", "notes.png"), noisy(gt, 12))
    with open(os.path.join(root, "target", "notes.png"), "w") as f:
        f.write("this is not a picture")
    write_pair(root, "bigger", noisy(crop("clock", SIDE + 8), 13), crop("clock"))
    coins = crop("coins")
    write_pair(root, "gray", noisy(coins, 14)[:, :, :1], coins)
    cells = crop("immunohistochemistry")
    write_pair(root, "deep", (noisy(cells, 15).astype(np.uint16) * 257), cells)
    write_pair(root, "copy_of_astronaut", noisy(crop("astronaut"), 0), crop("astronaut"))
    moon = crop("moon")
    write_pair(root, "same", moon, moon)
    grass = crop("grass")
    write_pair(root, "shifted", np.roll(noisy(grass, 16), (3, 0), axis=(0, 1)), grass)
    write_pair(root, "tiny", noisy(crop("hubble_deep_field", 40), 17), crop("hubble_deep_field", 40))
    return root


def run_tool(*args, timeout=300):
    return subprocess.run([sys.executable, TOOL, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO)  # fmt: skip


def problem_lines(stdout):
    return [line for line in stdout.splitlines() if line.split(":")[0] in KINDS]


def test_every_planted_problem_is_one_line_naming_its_files(planted):
    done = run_tool(planted, "--patch_size", 64)
    assert done.returncode == 1, done.stderr[-2000:]
    lines = problem_lines(done.stdout)
    expected = {
        ("unpaired", "input/orphan.png has no partner in target/"),
        ("unpaired", "target/lonely.png has no partner in input/"),
        ("unreadable", "input/truncated.png: truncated PNG"),
        ("unreadable", "input/cut.jpg: truncated JPEG"),
        ("unreadable", "target/notes.png: not an image"),
        ("size", "input/bigger.png is 104x104 but target/bigger.png is 96x96"),
        ("format", "input/gray.png is 8-bit gray but target/gray.png is 8-bit RGB"),
        ("format", "input/deep.png is 16-bit RGB but target/deep.png is 8-bit RGB"),
        ("duplicate", "input/00_astronaut.png, input/copy_of_astronaut.png are identical"),
        ("duplicate", "target/00_astronaut.png, target/copy_of_astronaut.png are identical"),
        ("duplicate", "input/same.png and target/same.png are identical (nothing to restore)"),
        ("misaligned", "input/shifted.png is shifted by"),
        ("too_small", "target/tiny.png is 40x40, smaller than the training patch 64"),
    }
    for kind, fragment in expected:
        assert any(line.startswith(kind + ":") and fragment in line for line in lines), (kind, fragment, lines)
    assert len(lines) == len(expected), lines  # nothing else: the clean pairs pass
    assert "shifted by (+0.0, +3.0) px against target/shifted.png" in done.stdout
    summary = done.stdout.splitlines()[-2:]
    assert f"{planted}: 11 pair(s); sizes 96x96 (10), 40x40 (1); 8-bit (11); RGB (11)" in summary[0], summary
    assert summary[1].endswith("13 problem(s): unpaired 2, unreadable 3, size 1, format 2, too_small 1, duplicate 3, "
                               "misaligned 1"), summary  # fmt: skip


def test_json_output_and_clean_exit(planted, tmp_path):
    done = run_tool(planted, "--json", "--patch_size", 64)
    assert done.returncode == 1
    data = json.loads(done.stdout)
    (report,) = data["datasets"]
    assert data["ok"] is False and report["pairs"] == 11 and report["problems_by_kind"]["unpaired"] == 2
    assert report["bit_depths"] == {"8": 11} and report["channels"] == {"RGB": 11}
    assert all(p["files"] and p["kind"] in KINDS for p in report["problems"])
    clean = clean_set(str(tmp_path / "clean"))
    out = tmp_path / "report.json"
    done = run_tool(clean, "--json", out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].endswith("no problems found")
    assert json.loads(out.read_text())["ok"] is True


def test_usage_errors_exit_2(tmp_path):
    assert run_tool(tmp_path / "nowhere").returncode == 2
    assert run_tool().returncode == 2
    assert run_tool(tmp_path, "--scale", "0").returncode == 2
    done = run_tool("--config-file", tmp_path / "missing.yaml")
    assert done.returncode == 2 and done.stderr.startswith("error: ") and "Traceback" not in done.stderr


def test_quick_check_reads_headers_only(planted):
    report = check_paired_root(planted, patch_size=64, deep=False, progress=False)
    kinds = report.by_kind()
    assert kinds == {"unpaired": 2, "unreadable": 3, "size": 1, "format": 2, "too_small": 1}, kinds


def test_scale_and_a_missing_folder(tmp_path):
    root = str(tmp_path / "sr")
    gt = crop("astronaut")
    write_pair(root, "x2", cv2.resize(gt, (SIDE // 2, SIDE // 2), interpolation=cv2.INTER_AREA), gt)
    assert check_paired_root(root, scale=2, progress=False).ok
    assert check_paired_root(root, progress=False).by_kind() == {"size": 1}
    report = check_paired_root(str(tmp_path), progress=False)
    assert report.by_kind() == {"layout": 1} and "not found" in report.problems[0].detail


def test_config_mode_checks_every_dataset_even_unpaired_ones(planted, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(
        "arch: {name: MPRNet}\n"
        f"train: {{dataset: {{name: PairedImageDataset, root: {planted}, patch_size: 64}}}}\n"
        "val: {datasets: {photos: {dataset: {name: SyntheticDegradationDataset, phase: val}, protocol: training_psnr}}}\n"
    )  # fmt: skip
    done = run_tool("--config-file", config)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "train.dataset (" in done.stdout and "13 problem(s)" in done.stdout
    assert "val.datasets.photos: not checked (SyntheticDegradationDataset does not read paired image files)" in done.stdout


def test_shift_estimate_ignores_degradations_and_finds_shifts():
    gt = skimage_photo("astronaut")
    assert np.hypot(*estimate_shift(noisy(gt, 0), gt)) < 0.3
    blurred = cv2.GaussianBlur(gt, (0, 0), 3)
    assert np.hypot(*estimate_shift(blurred, gt)) < 0.3
    dx, dy = estimate_shift(np.roll(gt, (2, -5), axis=(0, 1)), gt)
    assert abs(dx + 5) < 0.3 and abs(dy - 2) < 0.3
    sky = np.ascontiguousarray(skimage_photo("camera")[:96, :128])  # almost flat: no peak to trust
    assert estimate_shift(noisy(sky, 1), sky) == (0.0, 0.0)
