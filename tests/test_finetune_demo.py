"""docs/finetuning.md end to end, shortened for a 2-core CPU: JPEG-compressed pairs made from the
scikit-image photos (a degradation the project does not otherwise use), quick-start-like weights
(the quick start's denoiser, trained briefly here), then the walk-through's steps: check the pairs,
fine-tune (held-out pairs), evaluate the start and the result on the held-out pairs with --report,
restore the held-out photos with the apps. The gain is measured on pairs never trained on."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np

from ppir.data.synthetic import DEFAULT_PHOTOS, skimage_photo
from ppir.utils.image_io import write_image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIDE = 160
QUALITY = 12


def run(script, *args, timeout=900):
    env = {k: v for k, v in os.environ.items() if k not in ("PPIR_DEBUG", "PPIR_WEIGHTS_MIRROR")}
    done = subprocess.run([sys.executable, os.path.join(REPO, script), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO, env=env)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


def jpeg_pairs(root):
    """Centre crops of every bundled photo, and their JPEG (quality 12) versions as inputs."""
    for name in DEFAULT_PHOTOS:
        photo = skimage_photo(name)
        top, left = (photo.shape[0] - SIDE) // 2, (photo.shape[1] - SIDE) // 2
        clean = np.ascontiguousarray(photo[top : top + SIDE, left : left + SIDE])
        ok, data = cv2.imencode(".jpg", np.ascontiguousarray(clean[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
        write_image(os.path.join(root, "input", f"{name}.png"), cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1])
        write_image(os.path.join(root, "target", f"{name}.png"), clean)


def test_walkthrough_fine_tunes_quickstart_weights_to_jpeg_artefacts(tmp_path):
    pairs = tmp_path / "my_pairs"
    jpeg_pairs(str(pairs))
    # quick-start-like weights: the quick start's denoiser (n_feat 8), briefly trained
    run("tools/main.py", "-c", "configs/quickstart_denoising.yaml", "--output-dir", tmp_path / "qs", "-o",
        "train.total_iters=30", "train.batch_size=4", "train.dataset.patch_size=48", "val.interval=0",
        "val.score_input=false", "checkpoint.interval=0", "log.progress_bar=false",
        "train.lr_schedule.warmup_iters=5", "train.lr_schedule.cosine_iters=25")  # fmt: skip
    start = tmp_path / "qs" / "quickstart_denoising" / "weights" / "final.pdparams"

    # 2. check the pairs
    checked = run("tools/check_dataset.py", pairs, "--patch_size", 64)
    assert checked.stdout.splitlines()[-1].endswith("no problems found")

    # 3. fine-tune (the config as documented; shortened: fewer, larger steps for a small network)
    run("tools/main.py", "-c", "configs/finetune_mprnet_denoising.yaml", "-o", f"train.dataset.root={pairs}",
        "--load", start, "--output-dir", tmp_path / "runs", "-o", "val.holdout=0.2", "train.total_iters=60",
        "train.batch_size=4", "train.micro_batches=1", "train.dataset.patch_size=64", "train.num_workers=0",
        "train.amp=false", "train.optimizer.lr=1e-3", "train.lr_schedule.warmup_iters=5",
        "train.lr_schedule.cosine_iters=55", "val.interval=0", "log.progress_bar=false")  # fmt: skip
    run_dir = tmp_path / "runs" / "finetune_mprnet_denoising"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    held = metrics["holdout"]["names"]
    assert len(held) == 3 and (run_dir / "report" / "index.html").exists()

    # 4. evaluate the start and the result on the held-out pairs, with the per-image report
    heldout = (f"val.datasets.heldout={{dataset: {{name: NamedSubset, only: [{', '.join(held)}], dataset: "
               f"{{name: PairedImageDataset, root: {pairs}, phase: val}}}}, protocol: gopro}}")
    scores = {}
    for label, weights in (("start", start), ("finetuned", run_dir / "weights" / "best.pdparams")):
        out = tmp_path / f"eval_{label}"
        run("tools/main.py", "-c", "configs/finetune_mprnet_denoising.yaml", "-o", f"train.dataset.root={pairs}",
            heldout, "val.score_input=true", "--evaluate-only", "--load", weights, "--output-dir", out, "--report")
        scores[label] = json.loads((out / "metrics.json").read_text())["heldout"]
        assert (out / "report" / "per_image.csv").exists()
    with open(tmp_path / "eval_finetuned" / "report" / "per_image.csv", encoding="utf-8") as f:
        rows = [line.split(",") for line in f.read().splitlines() if not line.startswith("#")]
    header, rows = rows[0], rows[1:]
    jpeg_psnr = float(np.mean([float(r[header.index("input_PSNR")]) for r in rows]))
    print(f"held-out {held}: JPEG input {jpeg_psnr:.2f} dB, quick-start weights {scores['start']['PSNR']:.2f} dB, "
          f"fine-tuned {scores['finetuned']['PSNR']:.2f} dB")
    assert scores["finetuned"]["PSNR"] > jpeg_psnr + 0.1  # restoring beats the JPEG itself
    assert scores["finetuned"]["PSNR"] > scores["start"]["PSNR"] + 0.3  # and fine-tuning beat the start

    # 5. restore photos with the result
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in held:
        os.link(pairs / "input" / f"{name}.png", photos / f"{name}.png")
    done = run("applications/tools/mprnet.py", "--task", "Denoising", "--weight_path", run_dir / "weights" / "best.pdparams",
               "--input_image", photos, "--output_path", tmp_path / "restored", "--backend", "dygraph", "--report")
    assert sorted(os.listdir(tmp_path / "restored" / "Denoising")) >= sorted(f"{n}.png" for n in held)
    assert "report: " in done.stdout
