"""``tools/main.py`` as users run it: one-line errors, --evaluate-only outputs, flags."""
import json
import os

import numpy as np
import pytest
import scipy.io

from ppir.engine.cli import build_parser, explain_failure, flag_overrides
from ppir.engine.config import load_config
from engine_support import (
    TINY_MPRNET, dnd_files, run_main, run_main_in_process, sidd_mat_files, tiny_config, write_config,
)


def assert_one_line_error(done, *fragments):
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_missing_config_file(tmp_path):
    done = run_main("-c", tmp_path / "nope.yaml")
    assert_one_line_error(done, "nope.yaml: config file not found")


def test_unknown_architecture_name(tmp_path):
    path = write_config(tmp_path, tiny_config(arch={"name": "MPRnet"}))
    done = run_main("-c", path, "--output-dir", tmp_path / "out")
    assert_one_line_error(done, f"{path} (or its _base_ files / -o): arch: unknown architecture 'MPRnet'",
                          "Did you mean 'MPRNet'?")


def test_arguments_a_network_refuses_are_one_line_naming_the_config(tmp_path):
    path = write_config(tmp_path, tiny_config(arch={"name": "MIRNetV2", "n_feat": 10}))
    done = run_main("-c", path, "--output-dir", tmp_path / "out")
    assert_one_line_error(done, f"{path} (or its _base_ files / -o): arch: MIRNetV2 n_feat=10")


def test_unknown_config_key_names_the_file(tmp_path):
    cfg = tiny_config()
    cfg["train"]["lr_shedule"] = {"name": "constant"}
    path = write_config(tmp_path, cfg)
    done = run_main("-c", path)
    assert_one_line_error(done, f"{path}: unknown key 'train.lr_shedule' (did you mean 'lr_schedule'?)")


def test_missing_and_empty_dataset_folders(tmp_path):
    missing = tmp_path / "no_such_gopro"
    path = write_config(tmp_path, tiny_config(), "missing.yaml")
    done = run_main("-c", path, "-o", f"train.dataset={{name: GoPro, root: {missing}, patch_size: 16}}")
    assert_one_line_error(done, str(missing))
    empty = tmp_path / "GoPro"
    for sub in ("input", "target"):
        (empty / "train" / sub).mkdir(parents=True)
    done = run_main("-c", path, "-o", f"train.dataset={{name: GoPro, root: {empty}, patch_size: 16}}")
    assert_one_line_error(done, str(empty / "train"))


def test_debug_mode_shows_the_traceback(tmp_path):
    done = run_main("-c", tmp_path / "nope.yaml", env={"PPIR_DEBUG": "1"})
    assert done.returncode != 0 and "Traceback" in done.stderr and "ConfigError" in done.stderr


def test_nan_loss_stops_and_names_the_iteration_and_last_good_checkpoint(tmp_path):
    cfg = tiny_config()
    cfg["train"].update(total_iters=50, optimizer={"name": "Adam", "lr": 1e30}, lr_schedule={"name": "constant"})
    cfg["checkpoint"]["interval"] = 1
    path = write_config(tmp_path, cfg)
    done = run_main("-c", path, "--output-dir", tmp_path / "out")
    line = assert_one_line_error(done, "loss became", "stopped before the update", "the last good checkpoint is")
    bad = int(line.split(" at iteration ")[1].split(";")[0])
    checkpoints = sorted(os.listdir(tmp_path / "out" / "tiny" / "checkpoints"))
    assert checkpoints[-1] == f"iter_{bad - 1:09d}.pdckpt"  # nothing written for the bad step
    assert checkpoints[-1] in line


@pytest.mark.parametrize("error_type", [MemoryError, RuntimeError])
def test_gpu_out_of_memory_message(error_type):
    paddle_text = (
        "ResourceExhaustedError: \n\nOut of memory error on GPU 0. Cannot allocate 1.5GiB memory on GPU 0, "
        "14.2GiB memory has been allocated and available memory is only 512MiB.\n\n"
        "Please check whether there is any other process using GPU 0.\n"
    )
    message = explain_failure(error_type(paddle_text), device="gpu:0")
    assert message.startswith("out of GPU memory (Out of memory error on GPU 0. Cannot allocate 1.5GiB memory")
    assert "Lower train.batch_size or the patch size" in message and "\n" not in message
    assert explain_failure(error_type(paddle_text), device="cpu") is None  # not a GPU run: a real bug
    assert explain_failure(ValueError("shape mismatch"), device="gpu:0") is None


def test_flags_become_recorded_overrides(tmp_path):
    args = build_parser().parse_args(
        ["-c", "x.yaml", "--seed", "0", "--amp", "--amp-level", "O2", "--device", "cpu", "--output-dir", "my out",
         "-o", "train.total_iters=5", "-o", "seed=9"]  # fmt: skip
    )
    assert args.opt == ["train.total_iters=5", "seed=9"]
    path = write_config(tmp_path, tiny_config())
    cfg = load_config(path, args.opt + flag_overrides(args))
    assert (cfg["seed"], cfg["train"]["amp"], cfg["train"]["amp_level"]) == (0, True, "O2")  # --seed 0 is kept
    assert (cfg["device"], cfg["output_dir"], cfg["train"]["total_iters"]) == ("cpu", "my out", 5)
    assert build_parser().parse_args(["-c", "x", "--resume"]).resume == "auto"


def test_conflicting_flags(tmp_path):
    path = write_config(tmp_path, tiny_config())
    run = run_main_in_process
    assert_one_line_error(run("-c", path, "--evaluate-only"), "--evaluate-only needs --load")
    assert_one_line_error(run("-c", path, "--save-images"), "--save-images goes with --evaluate-only")
    assert_one_line_error(run("-c", path, "--resume", "x", "--load", "y"), "not both")
    assert_one_line_error(run("-c", path, "--resume", tmp_path / "none.pdckpt"), "no such checkpoint file")


def test_resume_rejects_a_weights_file(tmp_path):
    path = write_config(tmp_path, tiny_config())
    assert run_main("-c", path, "--output-dir", tmp_path / "out", "-o", "train.total_iters=1").returncode == 0
    weights = tmp_path / "out" / "tiny" / "weights" / "final.pdparams"
    assert_one_line_error(run_main("-c", path, "--resume", weights), "not a ppir training checkpoint")


# --- evaluation ----------------------------------------------------------------------------------


@pytest.fixture
def trained_weights(tmp_path):
    path = write_config(tmp_path, tiny_config(), "train.yaml")
    done = run_main("-c", path, "--output-dir", tmp_path / "run", "-o", "train.total_iters=1")
    assert done.returncode == 0, done.stderr[-2000:]
    return tmp_path / "run" / "train" / "weights" / "final.pdparams"


def test_evaluate_only_scores_every_set_writes_metrics_and_submissions(tmp_path, trained_weights):
    sidd = sidd_mat_files(str(tmp_path / "SIDD_val"))
    dnd = dnd_files(str(tmp_path / "DND"))
    cfg = tiny_config()
    cfg["train"]["dataset"] = {"name": "GoPro", "root": str(tmp_path / "not_downloaded"), "patch_size": 16}
    cfg["test"] = {"datasets": {
        "sidd": {"dataset": {"name": "SIDDValidation", "root": sidd}, "protocol": "sidd_val", "submission": "sidd"},
        "dnd": {"dataset": {"name": "DND", "root": dnd}, "submission": "dnd"},
    }}  # fmt: skip
    path = write_config(tmp_path, cfg)
    out = tmp_path / "eval"
    done = run_main("-c", path, "--evaluate-only", "--load", trained_weights, "--output-dir", out, "--save-images")
    assert done.returncode == 0, done.stderr[-3000:]  # the missing training folder is never opened
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"photos", "sidd", "dnd"}
    assert set(metrics["sidd"]) == {"PSNR", "SSIM"} and metrics["dnd"] == {}
    assert all(np.isfinite(v) for scores in metrics.values() for v in scores.values())
    table = done.stdout.splitlines()
    assert table[0].split() == ["dataset", "PSNR", "SSIM"]
    assert any(line.startswith("sidd") and f"{metrics['sidd']['PSNR']:.4f}" in line for line in table)
    result = scipy.io.loadmat(out / "sidd" / "Idenoised.mat")["Idenoised"]
    assert result.shape == (2, 2, 16, 16, 3) and result.dtype == np.float32
    assert (out / "dnd" / "0001.mat").exists()
    assert sorted(os.listdir(out / "sidd")) == ["0001_01.png", "0001_02.png", "0002_01.png", "0002_02.png",
                                                "Idenoised.mat"]  # fmt: skip
    assert len(os.listdir(out / "photos")) == 2


def test_evaluate_only_accepts_a_training_checkpoint(tmp_path, trained_weights):
    checkpoint = sorted((trained_weights.parent.parent / "checkpoints").iterdir())[-1]
    path = write_config(tmp_path, tiny_config(), "eval.yaml")
    done = run_main("-c", path, "--evaluate-only", "--load", checkpoint, "--output-dir", tmp_path / "e1")
    again = run_main("-c", path, "--evaluate-only", "--load", trained_weights, "--output-dir", tmp_path / "e2")
    assert done.returncode == 0 and again.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "e1" / "metrics.json").read_text() == (tmp_path / "e2" / "metrics.json").read_text()


def test_evaluate_only_with_mismatched_weights_is_a_weights_error(tmp_path, trained_weights):
    path = write_config(tmp_path, tiny_config(arch=dict(TINY_MPRNET, n_feat=8)), "wide.yaml")
    done = run_main("-c", path, "--evaluate-only", "--load", trained_weights, "--output-dir", tmp_path / "e")
    assert_one_line_error(done, "does not match MPRNet", "shape mismatch")
