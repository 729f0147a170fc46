"""Two CPU processes via ``python -m paddle.distributed.launch`` (gloo): identical replicas, a
data split that matches a single process, and distributed metrics equal to a one-process
evaluation of the same weights."""
import json
import os
import re
import subprocess
import sys

import pytest

from engine_support import MAIN, REPO, max_weight_difference, run_main, tiny_config, write_config


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dist")
    cfg = tiny_config()
    cfg["train"]["total_iters"] = 3
    cfg["checkpoint"]["interval"] = 0
    path = write_config(folder, cfg)
    # CPU-only Paddle: no --devices (it names GPUs); --nproc_per_node starts gloo processes.
    launch = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2",
              "--log_dir", str(folder / "log"), MAIN, "-c", path, "--output-dir", str(folder / "dist")]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PADDLE_", "CUDA_VISIBLE"))}
    done = subprocess.run(launch, capture_output=True, text=True, timeout=600, cwd=REPO, env=env)
    logs = {r: (folder / "log" / f"workerlog.{r}").read_text(errors="replace") for r in range(2)}
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-1500:] + logs[0][-1500:] + logs[1][-1500:]
    return folder, path, logs


def test_both_ranks_end_with_identical_weights(two_process_run):
    _, _, logs = two_process_run
    digests = [re.search(rf"rank {r}: final weights sha256 ([0-9a-f]+)", logs[r]).group(1) for r in range(2)]
    assert digests[0] == digests[1]
    assert "final weights identical on all 2 processes" in logs[0]
    assert "global batch 2 over 2 process(es)" in logs[0]


def test_only_rank_0_writes_the_run_folder(two_process_run):
    folder, _, logs = two_process_run
    run = folder / "dist" / "tiny"
    assert sorted(p.name for p in run.iterdir()) == ["checkpoints", "config.yaml", "metrics.json", "samples",
                                                     "train.log", "weights"]  # fmt: skip
    assert "training tiny" not in logs[1]  # rank 1 reports nothing


def test_distributed_validation_equals_a_single_process_evaluation(two_process_run):
    folder, path, _ = two_process_run
    run = folder / "dist" / "tiny"
    distributed = json.loads((run / "metrics.json").read_text())["last"]
    done = run_main("-c", path, "--evaluate-only", "--load", run / "weights" / "final.pdparams",
                    "--output-dir", folder / "single_eval")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    single = json.loads((folder / "single_eval" / "metrics.json").read_text())
    assert single.keys() == distributed.keys() == {"photos"}
    assert single["photos"]["PSNR"] == pytest.approx(distributed["photos"]["PSNR"], abs=1e-9)


def test_two_processes_train_like_one_process_with_the_same_global_batch(two_process_run):
    folder, path, _ = two_process_run
    done = run_main("-c", path, "--output-dir", folder / "single")
    assert done.returncode == 0, done.stderr[-2000:]
    # Same samples per iteration, gradients averaged over ranks = over the batch: equal up to
    # float summation order.
    difference = max_weight_difference(
        folder / "single" / "tiny" / "weights" / "final.pdparams", folder / "dist" / "tiny" / "weights" / "final.pdparams"
    )
    assert difference < 1e-6
