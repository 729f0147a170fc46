"""Per-image reports: ``tools/main.py --evaluate-only --report`` and ``val.report`` write
report/per_image.csv (means = metrics.json exactly, protocol in the header) and a self-contained
index.html checked in headless Chromium (no console error, every image resolves, the slider moves,
the table sorts); the apps' ``--report`` (input against restored)."""
import csv
import json
import math
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from ppir.archs import build_arch
from ppir.data.synthetic import skimage_photo
from ppir.utils.image_io import write_image
from ppir.weights import save_weights

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = {"name": "MPRNet", "n_feat": 4, "scale_unetfeats": 2, "scale_orsnetfeats": 2, "num_cab": 1}
PHOTOS = ("astronaut", "coffee", "chelsea", "coins", "moon", "brick")


def blurred(img):
    return np.ascontiguousarray(cv2.GaussianBlur(img, (0, 0), 1.5))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    for name in PHOTOS:
        gt = np.ascontiguousarray(skimage_photo(name)[:72, :88])
        folder = "GoPro" if name in PHOTOS[:4] else "mine"
        write_image(base / folder / "input" / f"{name}.png", blurred(gt))
        write_image(base / folder / "target" / f"{name}.png", gt)
    weights = base / "tiny.pdparams"
    save_weights(build_arch(TINY), str(weights))
    return base, weights


def run(script, *args, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "PPIR_DEBUG"}
    return subprocess.run([sys.executable, os.path.join(REPO, script), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO, env=env)  # fmt: skip


def eval_sets(base):
    return [f"val.datasets.{name}={{dataset: {{name: PairedImageDataset, root: {base / name}, phase: val}}, "
            f"protocol: gopro}}" for name in ("GoPro", "mine")]  # fmt: skip


@pytest.fixture(scope="module")
def evaluated(data, tmp_path_factory):
    base, weights = data
    out = tmp_path_factory.mktemp("evaluated")
    done = run("tools/main.py", "-c", "configs/finetune_mprnet_deblurring.yaml", "-o", *eval_sets(base),
               "--evaluate-only", "--load", weights, "--output-dir", out, "--report")  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"report: {out / 'report' / 'index.html'}" in done.stdout
    return out


def read_csv(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    comments = [line for line in lines if line.startswith("#")]
    rows = list(csv.DictReader([line for line in lines if not line.startswith("#")]))
    return comments, rows


def test_csv_means_equal_metrics_json_exactly(evaluated):
    metrics = json.loads((evaluated / "metrics.json").read_text())
    comments, rows = read_csv(evaluated / "report" / "per_image.csv")
    assert list(rows[0]) == ["dataset", "name", "PSNR", "SSIM", "input_PSNR", "input_SSIM", "gain_PSNR", "gain_SSIM"]
    assert [r["name"] for r in rows] == ["astronaut", "chelsea", "coffee", "coins", "brick", "moon"]
    for set_name, scores in metrics.items():
        for metric, value in scores.items():
            assert float(np.mean([float(r[metric]) for r in rows if r["dataset"] == set_name])) == value
    for row in rows:
        assert math.isclose(float(row["PSNR"]) - float(row["input_PSNR"]), float(row["gain_PSNR"]), abs_tol=1e-12)
    assert len(comments) == 2 and "GoPro: protocol gopro - scored on 8-bit" in comments[0]
    assert "'mode': 'matlab3d'" in comments[0] and "'channel': 'rgb'" in comments[0]


def test_page_is_self_contained_and_shows_the_published_number(evaluated):
    text = (evaluated / "report" / "index.html").read_text()
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in text
    assert "32.66 / 0.959" in text  # MPRNet Deblurring's published GoPro number, from the model index
    assert text.count('class="card"') == 6 and "<svg" in text


def test_page_in_a_real_browser(evaluated, browser):
    browser.get((evaluated / "report" / "index.html").as_uri())
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0]);")
    assert len(images) == 6 * 6 and all(ok for _, ok in images), images
    moved = browser.execute_script(
        "const s = document.querySelector('input.slider'); const img = s.parentNode.querySelector('img.after');"
        "const before = getComputedStyle(img).clipPath; s.value = 20; s.dispatchEvent(new Event('input'));"
        "return [before, getComputedStyle(img).clipPath];")
    assert moved[0] != moved[1] and "20%" in moved[1], moved
    order = browser.execute_script(
        "const table = document.querySelectorAll('table.sortable')[0];"
        "const th = Array.from(table.tHead.rows[0].cells).find(c => c.textContent === 'PSNR'); th.click();"
        "return Array.from(table.tBodies[0].rows).map(r => parseFloat(r.cells[2].dataset.value));")
    assert order == sorted(order), order
    assert browser.console_errors() == []


def test_val_report_after_training(data, tmp_path):
    base, weights = data
    done = run("tools/main.py", "-c", "configs/finetune_mprnet_deblurring.yaml", "-o", f"train.dataset.root={base / 'GoPro'}",
               "--load", weights, "--output-dir", tmp_path, "-o", "train.total_iters=1", "train.batch_size=2",
               "train.dataset.patch_size=32", "train.num_workers=0", "train.amp=false", "log.progress_bar=false")
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = tmp_path / "finetune_mprnet_deblurring"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    _, rows = read_csv(run_dir / "report" / "per_image.csv")
    assert [r["dataset"] for r in rows] == ["holdout"] and metrics["holdout"]["names"] == [rows[0]["name"]]
    assert float(rows[0]["PSNR"]) == metrics["report"]["scores"]["holdout"]["PSNR"]
    assert metrics["holdout"]["best_weights"] == metrics["report"]["scores"]["holdout"]


def test_apps_report_compares_input_and_restored(data, tmp_path, browser):
    base, weights = data
    done = run("applications/tools/mprnet.py", "--task", "Deblurring", "--weight_path", weights, "--input_image",
               base / "mine" / "input", "--output_path", tmp_path, "--backend", "dygraph", "--report")
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    page = tmp_path / "Deblurring" / "report" / "index.html"
    assert f"report: {page}" in done.stdout
    browser.get(page.as_uri())
    images = browser.execute_script("return Array.from(document.images).map(i => i.complete && i.naturalWidth > 0);")
    assert len(images) == 2 * 5 and all(images)
    assert browser.console_errors() == []
