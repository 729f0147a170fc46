"""Exact resume: N iterations + (stop or kill -9) + resume to 2N equals 2N straight, bitwise."""
import os
import signal
import subprocess
import sys
import time

import pytest

from ppir.engine.config import load_config
from ppir.engine.runner import train
from ppir.engine.checkpoint import CheckpointFolder
from engine_support import MAIN, REPO, max_weight_difference, run_main, tiny_config, write_config


def everything_on(**train_extra):
    """Tiny config exercising MixUp, EMA, grad clipping, weight decay and a warmup-cosine schedule."""
    cfg = tiny_config()
    cfg["train"].update(
        total_iters=6,
        mixup={"start_iter": 1, "preset": "mprnet"},
        ema_decay=0.9,
        grad_clip_norm=0.5,
        **train_extra,
    )
    cfg["train"]["optimizer"]["weight_decay"] = 1e-4
    cfg["val"]["interval"] = 2  # validation in between must not disturb the training state
    return cfg


def test_stop_and_resume_in_process_gives_identical_weights(tmp_path):
    path = write_config(tmp_path, everything_on())
    straight = train(load_config(path, [f"output_dir={tmp_path}/straight"]))
    train(load_config(path, [f"output_dir={tmp_path}/split", "train.total_iters=3"]))
    resumed = train(load_config(path, [f"output_dir={tmp_path}/split"]), resume="auto")
    assert resumed.iteration == straight.iteration == 6
    a = os.path.join(straight.run_dir, "weights", "final.pdparams")
    b = os.path.join(resumed.run_dir, "weights", "final.pdparams")
    assert max_weight_difference(a, b) == 0.0
    log = open(os.path.join(resumed.run_dir, "train.log"), encoding="utf-8").read()
    assert "resumed from" in log and "iter_000000003.pdckpt" in log


def test_kill_9_after_a_checkpoint_then_resume_auto_matches_a_straight_run(tmp_path):
    cfg = everything_on(num_workers=1)  # a DataLoader worker process: item seeds travel with the keys
    cfg["val"]["interval"] = 0
    path = write_config(tmp_path, cfg)
    killed_dir = tmp_path / "killed"
    checkpoints = CheckpointFolder(str(killed_dir / "tiny" / "checkpoints"), 1)
    proc = subprocess.Popen(
        [sys.executable, MAIN, "-c", path, "--output-dir", str(killed_dir), "-o", "train.total_iters=100000"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.time() + 300
        while len(checkpoints.all()) < 2 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    kept = checkpoints.all()
    assert len(kept) >= 2, "the run died before writing two checkpoints"
    last = int(os.path.basename(kept[-1])[5:14])
    total = last + 4
    assert total <= 40, "the killed run went further than this test expects"

    resumed = run_main("-c", path, "--output-dir", killed_dir, "--resume", "-o", f"train.total_iters={total}")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resumed from {kept[-1]}" in resumed.stderr
    straight = run_main("-c", path, "--output-dir", tmp_path / "straight", "-o", f"train.total_iters={total}")
    assert straight.returncode == 0, straight.stderr[-2000:]
    difference = max_weight_difference(
        killed_dir / "tiny" / "weights" / "final.pdparams", tmp_path / "straight" / "tiny" / "weights" / "final.pdparams"
    )
    assert difference == 0.0


def test_ctrl_c_saves_a_checkpoint_and_resume_finishes_identically(tmp_path):
    cfg = everything_on()
    cfg["val"]["interval"] = 0
    cfg["checkpoint"]["interval"] = 0  # only the interrupt writes one
    path = write_config(tmp_path, cfg)
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [sys.executable, MAIN, "-c", path, "--output-dir", str(out), "-o", "train.total_iters=100000"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    log = out / "tiny" / "train.log"
    deadline = time.time() + 300
    while not (log.exists() and "iter 3/" in log.read_text()) and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        # Seen once in four full-suite runs and never in 15 runs alone: say how it held its signals
        masks = [line for line in open(f"/proc/{proc.pid}/status") if line.startswith(("SigBlk", "SigIgn", "SigCgt"))]
        proc.kill()
        proc.communicate()
        pytest.fail(f"Ctrl-C did not stop training within 120 s; the process's signal masks: {masks}")
    assert proc.returncode == 130, stderr[-2000:]
    assert "interrupted; continue with --resume auto" in stderr
    saved = CheckpointFolder(str(out / "tiny" / "checkpoints"), 1).all()
    assert len(saved) == 1 and f"checkpoint {saved[0]}" in log.read_text()
    stopped_at = int(os.path.basename(saved[0])[5:14])
    total = stopped_at + 3
    resumed = run_main("-c", path, "--output-dir", out, "--resume", "auto", "-o", f"train.total_iters={total}")
    straight = run_main("-c", path, "--output-dir", tmp_path / "straight", "-o", f"train.total_iters={total}")
    assert resumed.returncode == 0 and straight.returncode == 0, resumed.stderr[-2000:] + straight.stderr[-2000:]
    assert "done: 3 iterations" in resumed.stdout and f"resumed; {total} in total" in resumed.stdout
    difference = max_weight_difference(
        out / "tiny" / "weights" / "final.pdparams", tmp_path / "straight" / "tiny" / "weights" / "final.pdparams"
    )
    assert difference == 0.0
