"""Fine-tuning on one's own pairs: the shipped configs, the released-weights start (download cache,
offline error), widths from the weights, the held-out split, the data check before training,
and gradient accumulation (train.micro_batches)."""
import glob
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from ppir.archs import build_arch
from ppir.data.holdout import NamedSubset, holdout_names
from ppir.data.synthetic import DEFAULT_PHOTOS, skimage_photo
from ppir.engine.config import load_config
from ppir.engine.trainer import micro_batches
from ppir.utils.image_io import write_image
from ppir.weights import read_state_dict, save_weights

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAIN = os.path.join(REPO, "tools", "main.py")
TINY = {"name": "MPRNet", "n_feat": 4, "scale_unetfeats": 2, "scale_orsnetfeats": 2, "num_cab": 1}
QUICK = ["train.total_iters=2", "train.batch_size=2", "train.dataset.patch_size=32", "train.num_workers=0",
         "train.amp=false", "val.interval=2", "checkpoint.interval=2", "log.progress_bar=false"]  # fmt: skip


def jpeg(img, quality=15):
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(img[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1])


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairs")
    for name in DEFAULT_PHOTOS:
        gt = np.ascontiguousarray(skimage_photo(name)[:64, :80])
        write_image(root / "input" / f"{name}.png", jpeg(gt))
        write_image(root / "target" / f"{name}.png", gt)
    return root


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "tiny.pdparams"
    save_weights(build_arch(TINY), str(path))
    return path


def run_main(*args, env=None, timeout=300):
    full_env = {k: v for k, v in os.environ.items() if k not in ("PPIR_DEBUG", "PPIR_WEIGHTS_MIRROR")}
    full_env.update({k: str(v) for k, v in (env or {}).items()})
    return subprocess.run([sys.executable, MAIN, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=full_env, cwd=REPO)  # fmt: skip


def error_lines(done):
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    return [line for line in done.stderr.splitlines() if line.startswith("error: ")]


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(REPO, "configs", "finetune_*.yaml"))))
def test_every_finetune_config_loads_with_the_documented_override(path):
    cfg = load_config(path, ["train.dataset.root=/my/pairs"])
    train = cfg["train"]
    assert train["dataset"]["root"] == "/my/pairs" and train["pretrained"] == "released"
    assert train["optimizer"]["lr"] <= 2e-5 and train["lr_schedule"]["name"] == "warmup_cosine"
    assert train["batch_size"] % train["micro_batches"] == 0 and cfg["val"]["holdout"] == 0.05
    assert not train["progressive"]["iters"] and train["mixup"]["start_iter"] is None
    assert cfg["arch"].get("task") or train["pretrained_task"]


def test_each_released_task_has_a_finetune_config():
    from ppir.archs.mirnet_v2 import MIRNETV2_TASKS
    from ppir.archs.mprnet import MPRNET_TASKS

    names = {os.path.basename(p) for p in glob.glob(os.path.join(REPO, "configs", "finetune_*.yaml"))}
    expected = {f"finetune_mprnet_{t.lower()}.yaml" for t in MPRNET_TASKS}
    expected |= {f"finetune_mirnetv2_{t}.yaml" for t in MIRNETV2_TASKS}
    expected.add("finetune_mirnet_real_denoising.yaml")  # MIRNet v1: the task ppir trains
    assert names == expected


def test_holdout_is_stable_by_name_and_at_least_one():
    names = [f"img_{i}" for i in range(40)]
    held = holdout_names(names, 0.05)
    assert len(held) == 2 and held == holdout_names(list(reversed(names)), 0.05)
    assert set(held) <= set(holdout_names(names + [f"new_{i}" for i in range(3)], 0.05) + held)
    assert len(holdout_names(names[:3], 0.05)) == 1


def test_named_subset_keeps_or_drops_names(pairs):
    inner = {"name": "PairedImageDataset", "root": str(pairs), "phase": "val"}
    kept = NamedSubset(inner, only=["coins", "moon"])
    dropped = NamedSubset(inner, exclude=["coins", "moon"])
    assert kept.names == ["coins", "moon"] and len(dropped) == len(DEFAULT_PHOTOS) - 2
    assert kept[0]["name"] == "coins"
    with pytest.raises(Exception, match="no pair named nope"):
        NamedSubset(inner, only=["nope"])


def test_finetune_from_load_reads_widths_holds_out_and_records_them(pairs, tiny_weights, tmp_path):
    done = run_main("-c", "configs/finetune_mprnet_deblurring.yaml", "-o", f"train.dataset.root={pairs}",
                    "--load", tiny_weights, "--output-dir", tmp_path, "-o", *QUICK)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    held = holdout_names(DEFAULT_PHOTOS, 0.05)
    run = tmp_path / "finetune_mprnet_deblurring"
    log = (run / "train.log").read_text()
    assert f"held out for validation, never trained on: 1 of {len(DEFAULT_PHOTOS)} pairs ({held[0]})" in log
    assert "network options from the weights:" in log and "n_feat=4" in log
    assert f"{len(DEFAULT_PHOTOS) - 1} training samples" in log
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["holdout"]["names"] == held
    assert set(metrics["holdout"]["input"]) == {"PSNR", "SSIM"} and set(metrics["holdout"]["last"]) == {"PSNR", "SSIM"}
    assert metrics["best"]["metric"] == "holdout/PSNR"
    assert "holdout PSNR: input" in done.stdout


def test_released_weights_come_from_the_apps_cache_or_a_clear_offline_error(pairs, tiny_weights, tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "MPR_Deraining.pdparams").write_bytes(tiny_weights.read_bytes())  # stands in for the release
    home = tmp_path / "home"
    done = run_main("-c", "configs/finetune_mprnet_deraining.yaml", "-o", f"train.dataset.root={pairs}",
                    "--output-dir", tmp_path / "out", "-o", *QUICK,
                    env={"PPIR_HOME": home, "PPIR_WEIGHTS_MIRROR": mirror.as_uri()})  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert (home / "weights" / "MPR_Deraining.pdparams").exists()
    log = (tmp_path / "out" / "finetune_mprnet_deraining" / "train.log").read_text()
    assert "starting from the released MPRNet Deraining weights" in log and "n_feat=4" in log
    offline = run_main("-c", "configs/finetune_mprnet_deraining.yaml", "-o", f"train.dataset.root={pairs}",
                       "--output-dir", tmp_path / "out2", "-o", *QUICK,
                       env={"PPIR_HOME": tmp_path / "empty_home", "PPIR_WEIGHTS_MIRROR": "http://127.0.0.1:9/models"})
    (line,) = error_lines(offline)
    assert "could not download http://127.0.0.1:9/models/MPR_Deraining.pdparams" in line
    assert "check the network connection" in line


def test_problems_in_the_data_stop_the_run_before_training(pairs, tiny_weights, tmp_path):
    root = tmp_path / "bad"
    for sub in ("input", "target"):
        os.makedirs(root / sub)
        for name in ("astronaut", "coffee", "rocket"):
            os.link(pairs / sub / f"{name}.png", root / sub / f"{name}.png")
    write_image(root / "input" / "orphan.png", skimage_photo("coins")[:64, :64])
    write_image(root / "input" / "wide.png", skimage_photo("coins")[:64, :80])
    write_image(root / "target" / "wide.png", skimage_photo("coins")[:64, :64])
    done = run_main("-c", "configs/finetune_mprnet_deblurring.yaml", "-o", f"train.dataset.root={root}",
                    "--load", tiny_weights, "--output-dir", tmp_path / "out", "-o", *QUICK)  # fmt: skip
    (line,) = error_lines(done)
    assert line.startswith("error: 2 problems in the data, found before training")
    assert "train.dataset: unpaired: input/orphan.png has no partner in target/" in done.stderr
    assert "train.dataset: size: input/wide.png is 80x64 but target/wide.png is 64x64" in done.stderr
    assert not (tmp_path / "out" / "finetune_mprnet_deblurring" / "checkpoints").exists()


def test_micro_batches_give_the_step_of_the_whole_batch(pairs, tiny_weights, tmp_path):
    finals = []
    for parts in (1, 2):
        out = tmp_path / f"parts{parts}"
        done = run_main("-c", "configs/finetune_mprnet_deblurring.yaml", "-o", f"train.dataset.root={pairs}",
                        "--load", tiny_weights, "--output-dir", out, "-o", *QUICK, "train.batch_size=4",
                        f"train.micro_batches={parts}", "train.total_iters=1", "val.interval=0")  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        finals.append(read_state_dict(str(out / "finetune_mprnet_deblurring" / "weights" / "final.pdparams")))
    assert max(float(np.max(np.abs(finals[0][k] - finals[1][k]))) for k in finals[0]) < 1e-5
    assert [w for _, _, w in micro_batches(np.zeros((5, 1)), np.zeros((5, 1)), 2)] == [0.4, 0.6]


def test_evaluate_only_with_a_finetune_config_takes_the_widths_of_the_weights(pairs, tiny_weights, tmp_path):
    mine = f"val.datasets.mine={{dataset: {{name: PairedImageDataset, root: {pairs}, phase: val}}, protocol: gopro}}"
    done = run_main("-c", "configs/finetune_mprnet_denoising.yaml", "-o", f"train.dataset.root={pairs}", mine,
                    "--evaluate-only", "--load", tiny_weights, "--output-dir", tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert set(json.loads((tmp_path / "metrics.json").read_text())["mine"]) == {"PSNR", "SSIM"}


def test_a_finetune_run_resumes_with_the_widths_of_its_checkpoint(pairs, tiny_weights, tmp_path):
    common = ["-c", "configs/finetune_mprnet_denoising.yaml", "--output-dir", tmp_path, "-o",
              f"train.dataset.root={pairs}", *QUICK, "val.report=false"]  # fmt: skip
    assert run_main(*common, "--load", tiny_weights).returncode == 0
    done = run_main(*common, "train.total_iters=4", "--resume")  # no --load, no download: the checkpoint
    assert done.returncode == 0, done.stderr[-3000:]
    log = (tmp_path / "finetune_mprnet_denoising" / "train.log").read_text()
    assert "iterations 2 -> 4 (resumed from" in log and log.count("held out for validation") == 2


def test_mirnet_v1_weights_cannot_be_downloaded_and_the_error_says_where_they_are(pairs, tmp_path):
    done = run_main("-c", "configs/finetune_mirnet_real_denoising.yaml", "-o", f"train.dataset.root={pairs}",
                    "--output-dir", tmp_path, env={"PPIR_HOME": tmp_path / "home"})  # fmt: skip
    (line,) = error_lines(done)
    assert "cannot be downloaded by URL" in line and "model_denoising.pth" in line
