"""Bad files in datasets end a run at once with one line (or are skipped on request), and a killed
run leaves no DataLoader worker behind. Real ``tools/main.py`` subprocesses, each with a timeout."""
import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from ppir.engine.config import load_config
from ppir.errors import ConfigError
from engine_support import MAIN, REPO, run_main, run_main_in_process, tiny_config, write_config

SECONDS_TO_FAIL = 60  # a failing run ends within seconds; a hang would run into this


def paired_folder(root, count=4, size=24, bad=()):
    for sub in ("input", "target"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    rng = np.random.RandomState(0)
    for i in range(count):
        image = (rng.rand(size, size, 3) * 255).astype(np.uint8)
        for sub in ("input", "target"):
            cv2.imwrite(os.path.join(root, sub, f"{i}.png"), image)
    for name in bad:
        corrupt(os.path.join(root, "input", name))
    return str(root)


def corrupt(path):
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n not really")


def paired_config(root, **train):
    cfg = tiny_config()
    cfg["train"]["dataset"] = {"name": "PairedImageDataset", "root": root, "patch_size": 16}
    cfg["train"].update(train)
    cfg["val"]["datasets"] = {"mine": {"dataset": {"name": "PairedImageDataset", "root": root, "phase": "val"},
                                       "protocol": "training_psnr"}}
    return cfg


def one_error_line(done):
    lines = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    return lines[0]


def timed_main(*args):
    start = time.time()
    done = run_main(*args, timeout=SECONDS_TO_FAIL)
    return done, time.time() - start


@pytest.mark.parametrize("workers", [0, 2])
def test_a_corrupt_training_file_ends_the_run_with_one_line_and_keeps_the_checkpoint(tmp_path, workers):
    root = paired_folder(tmp_path / "data")
    path = write_config(tmp_path, paired_config(root, num_workers=workers, total_iters=2))
    out = tmp_path / "out"
    first = run_main("-c", path, "--output-dir", out)
    assert first.returncode == 0, first.stderr[-2000:]
    checkpoint = out / "tiny" / "checkpoints" / "iter_000000002.pdckpt"
    assert checkpoint.exists()
    corrupt(os.path.join(root, "input", "1.png"))
    # train.check_data (on by default) finds it from the headers before the first step ...
    bad = os.path.join(root, "input", "1.png")
    done, seconds = timed_main("-c", path, "--output-dir", out, "--resume", "-o", "train.total_iters=8")
    assert done.returncode == 1 and "Traceback" not in done.stderr  # an input failed (README: exit status)
    line = one_error_line(done)
    assert line.startswith(f"error: {bad}: ") and "train.dataset.skip_bad_files: true" in line, line
    # ... and without that check (or for a file that goes bad during the run) the loader does
    done, seconds = timed_main("-c", path, "--output-dir", out, "--resume", "-o", "train.total_iters=8",
                               "train.check_data=false")
    assert done.returncode == 1
    line = one_error_line(done)
    assert line.startswith(f"error: {os.path.join(root, 'input', '1.png')}: not an image"), line
    assert "train.dataset.skip_bad_files: true" in line
    assert checkpoint.exists()
    assert seconds < SECONDS_TO_FAIL


def test_skip_bad_files_skips_counts_and_names_them(tmp_path):
    root = paired_folder(tmp_path / "data", bad=["2.png"])
    cfg = paired_config(root, num_workers=1, total_iters=4)
    cfg["train"]["dataset"]["skip_bad_files"] = True
    cfg["val"]["datasets"]["mine"]["dataset"]["skip_bad_files"] = True
    path = write_config(tmp_path, cfg)
    done = run_main("-c", path, "--output-dir", tmp_path / "out", timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    bad = os.path.join(root, "input", "2.png")
    log = (tmp_path / "out" / "tiny" / "train.log").read_text()
    assert f"train.dataset: skipped bad file (1 so far): {bad}: not an image" in log
    assert f"val.datasets.mine.dataset: skipped bad file (1 so far): {bad}" in log
    assert "val.datasets.mine.dataset: skipped 1 bad file(s)" in done.stdout


def test_evaluate_only_stops_on_a_corrupt_file_or_skips_it(tmp_path):
    root = paired_folder(tmp_path / "data")
    path = write_config(tmp_path, paired_config(root, total_iters=1))
    assert run_main("-c", path, "--output-dir", tmp_path / "out").returncode == 0
    weights = tmp_path / "out" / "tiny" / "weights" / "final.pdparams"
    corrupt(os.path.join(root, "input", "3.png"))
    done, seconds = timed_main("-c", path, "--evaluate-only", "--load", weights, "--output-dir", tmp_path / "ev")
    assert done.returncode == 1  # an input failed (README: exit status)
    line = one_error_line(done)
    assert line.startswith(f"error: {os.path.join(root, 'input', '3.png')}:"), line
    assert "val.datasets.mine.dataset.skip_bad_files: true" in line
    done = run_main("-c", path, "--evaluate-only", "--load", weights, "--output-dir", tmp_path / "ev",
                    "-o", "val.datasets.mine.dataset.skip_bad_files=true", timeout=SECONDS_TO_FAIL)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "val.datasets.mine.dataset: skipped 1 bad file(s)" in done.stdout and "3.png" in done.stdout


def test_skip_bad_files_must_be_a_bool(tmp_path):
    cfg = tiny_config()
    cfg["train"]["dataset"]["skip_bad_files"] = "sometimes"
    with pytest.raises(ConfigError, match="'train.dataset.skip_bad_files' must be true or false"):
        load_config(write_config(tmp_path, cfg))
    with pytest.raises(ConfigError, match="'val.datasets.photos.dataset.skip_bad_files' must be true or false"):
        load_config(write_config(tmp_path, tiny_config()), ["val.datasets.photos.dataset.skip_bad_files=3"])


def child_pids(pid):
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                if entry.isdigit() and int(f.read().rsplit(b")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except OSError:
            continue
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_kill_9_of_a_training_run_takes_its_workers_with_it(tmp_path):
    root = paired_folder(tmp_path / "data")
    path = write_config(tmp_path, paired_config(root, num_workers=2, total_iters=100000))
    proc = subprocess.Popen([sys.executable, MAIN, "-c", path, "--output-dir", str(tmp_path / "out")],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        workers = []
        while len(workers) < 2 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
            workers = child_pids(proc.pid)
        assert len(workers) >= 2, "the run never started its two workers"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    deadline = time.time() + 10
    while any(alive(pid) for pid in workers) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers), "DataLoader workers outlived their killed parent"


def test_an_unusable_run_or_output_folder_is_one_line_exit_2_before_any_work(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    path = write_config(tmp_path, tiny_config())
    done = run_main_in_process("-c", path, "--output-dir", blocker)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"error: {blocker / 'tiny'}: run folder cannot be made: {blocker} is a file, not a folder"
    done = run_main_in_process("-c", path, "--evaluate-only", "--load", tmp_path / "none.pdparams",
                               "--output-dir", blocker)
    assert done.returncode == 2 and done.stderr.strip() == f"error: {blocker}: output folder is a file, not a folder"


def test_flag_mistakes_are_not_blamed_on_the_config(tmp_path):
    path = write_config(tmp_path, tiny_config())
    weights = tmp_path / "w.pdparams"
    from ppir.weights import save_weights
    from ppir.archs import build_arch

    save_weights(build_arch(tiny_config()["arch"]), str(weights))
    for args, words in [(("--resume", weights), "not a ppir training checkpoint"),
                        (("--resume", tmp_path / "nope.pdckpt"), "no such checkpoint file"),
                        (("--evaluate-only",), "--evaluate-only needs --load")]:
        done = run_main_in_process("-c", path, "--output-dir", tmp_path / "out", *args)
        assert done.returncode == 2  # a usage error (README: exit status)
        assert words in done.stderr and "(or its _base_ files / -o)" not in done.stderr, done.stderr
