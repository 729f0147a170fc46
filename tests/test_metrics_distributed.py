"""Evaluator.summary() across two real Paddle ranks equals the single-process result.

The test launches this same file under ``paddle.distributed.launch`` (CPU, 2 processes); each rank
scores the images Paddle's DistributedBatchSampler gives it, which pads 5 images to 6 by repeating
one, and rank 0 writes what it gathered.
"""
import json
import os
import subprocess
import sys

import numpy as np
from skimage import data

IMAGE_COUNT = 5  # odd, so the sampler has to pad


def image_pair(index):
    """A real-photo crop and a noisy version of it, the same in every process."""
    ref = data.astronaut()[40 * index : 40 * index + 64, 100:164].astype(np.float32) / 255
    rng = np.random.default_rng(index)
    restored = np.clip(ref + rng.normal(0, 0.02 * (index + 1), ref.shape), 0, 1).astype(np.float32)
    return restored, ref


def run_rank(out_dir):
    import paddle.distributed as dist
    from paddle.io import DistributedBatchSampler

    from ppir.metrics import Evaluator

    dist.init_parallel_env()
    sampler = DistributedBatchSampler(list(range(IMAGE_COUNT)), batch_size=1, shuffle=False)
    evaluator = Evaluator("gopro")
    for (index,) in sampler:
        evaluator.update(*image_pair(index), name=f"img{index}")
    result = {"local": len(evaluator.per_image(reduce=False)), "summary": evaluator.summary()}
    result["gathered"] = len(evaluator.per_image())
    with open(os.path.join(out_dir, f"rank{dist.get_rank()}.json"), "w") as f:
        json.dump(result, f)


def test_two_ranks_report_the_single_process_summary(tmp_path):
    from ppir.metrics import Evaluator

    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    command = [
        sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2",
        "--log_dir", str(tmp_path / "log"), os.path.abspath(__file__), str(tmp_path),
    ]
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert finished.returncode == 0, finished.stdout[-2000:] + finished.stderr[-2000:]
    single = Evaluator("gopro")
    for index in range(IMAGE_COUNT):
        single.update(*image_pair(index), name=f"img{index}")
    for rank in (0, 1):
        result = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert result["local"] == 3  # 6 padded samples over 2 ranks
        assert result["gathered"] == IMAGE_COUNT  # the padded repeat is counted once
        assert result["summary"] == single.summary()


if __name__ == "__main__":
    run_rank(sys.argv[1])
