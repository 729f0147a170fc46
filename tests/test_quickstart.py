"""The README's first command, reduced to a few iterations (the full run is measured separately:
docs/training.md). Checks what a newcomer sees: files in the run folder and the closing summary."""
import re

from engine_support import REPO, run_main


def test_quickstart_runs_and_ends_with_a_summary(tmp_path):
    out = tmp_path / "output"
    done = run_main(
        "--config-file", "configs/quickstart_denoising.yaml", "--output-dir", out,
        "-o", "train.total_iters=4", "val.interval=4", "checkpoint.interval=4", "log.progress_bar=false",
        cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    summary = done.stdout.strip().splitlines()
    assert re.fullmatch(r"done: 4 iterations in \dm\d\ds", summary[0]), summary
    match = re.fullmatch(r"photos PSNR: input (\d+\.\d\d) -> restored (\d+\.\d\d) \(([+-]\d+\.\d\d)\)", summary[1])
    assert match, summary
    before, after, gain = map(float, match.groups())
    assert 19.5 < before < 21.5  # sigma-25 noise on the held-out photos
    assert abs(after - before - gain) < 0.011
    run = out / "quickstart_denoising"
    assert summary[2] == f"weights: {run / 'weights' / 'final.pdparams'}"
    assert summary[-1] == f"log: {run / 'train.log'}"
    assert (run / "config.yaml").exists() and (run / "weights" / "best.pdparams").exists()
    assert len(list((run / "samples" / "iter_000000004" / "photos").iterdir())) == 2
