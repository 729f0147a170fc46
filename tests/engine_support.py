"""Shared helpers for the engine tests (no tests here): tiny configs written to disk, running
``tools/main.py`` in a subprocess, reading back weights."""
import contextlib
import io
import os
import subprocess
import sys
from types import SimpleNamespace

import h5py
import numpy as np
import scipy.io
import yaml

from ppir.weights import read_state_dict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAIN = os.path.join(REPO, "tools", "main.py")

TINY_MPRNET = {"name": "MPRNet", "n_feat": 4, "scale_unetfeats": 2, "scale_orsnetfeats": 2, "num_cab": 1}

SYNTHETIC_TRAIN = {"name": "SyntheticDegradationDataset", "degradation": "noise", "sigma": 25, "patch_size": 16}
SYNTHETIC_VAL = {"name": "SyntheticDegradationDataset", "degradation": "noise", "sigma": 25, "phase": "val",
                 "center_crop": 32}  # fmt: skip


def tiny_config(**sections):
    """A complete small training config; keyword arguments replace whole top-level sections."""
    cfg = {
        "seed": 3,
        "arch": dict(TINY_MPRNET),
        "train": {
            "dataset": dict(SYNTHETIC_TRAIN),
            "batch_size": 2,
            "total_iters": 4,
            "loss": {"name": "MultiStageLoss", "losses": [{"name": "CharbonnierLoss"}, {"name": "EdgeLoss", "weight": 0.05}]},
            "optimizer": {"name": "Adam", "lr": 1e-3},
            "lr_schedule": {"name": "warmup_cosine", "warmup_iters": 2, "cosine_iters": 6, "eta_min": 1e-5},
        },
        "val": {"interval": 0, "datasets": {"photos": {"dataset": dict(SYNTHETIC_VAL), "protocol": "training_psnr"}},
                "save_images": 1},  # fmt: skip
        "checkpoint": {"interval": 2, "keep_last": 10},
        "log": {"interval": 1, "progress_bar": False},
    }
    cfg.update(sections)
    return cfg


def write_config(folder, cfg, name="tiny.yaml"):
    path = os.path.join(str(folder), name)
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    return path


def run_main(*args, env=None, timeout=600, cwd=None):
    """``python tools/main.py *args`` -> CompletedProcess (text output)."""
    full_env = {k: v for k, v in os.environ.items() if k != "PPIR_DEBUG"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, MAIN, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=full_env,
        cwd=cwd or REPO,
    )  # fmt: skip


def run_main_in_process(*args):
    """``tools/main.py *args`` as a call of its ``main()`` here, without a new interpreter (a few
    seconds less each): for flag checks that stop before any training."""
    from ppir.engine.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def max_weight_difference(path_a, path_b):
    a, b = read_state_dict(path_a), read_state_dict(path_b)
    assert a.keys() == b.keys()
    return max(float(np.max(np.abs(a[k].astype(np.float64) - b[k]))) for k in a)


def sidd_mat_files(folder, images=2, blocks=2, size=16):
    rng = np.random.RandomState(0)
    gt = rng.randint(40, 200, size=(images, blocks, size, size, 3)).astype(np.uint8)
    noisy = np.clip(gt + rng.normal(0, 20, gt.shape), 0, 255).astype(np.uint8)
    os.makedirs(folder, exist_ok=True)
    scipy.io.savemat(os.path.join(folder, "ValidationNoisyBlocksSrgb.mat"), {"ValidationNoisyBlocksSrgb": noisy})
    scipy.io.savemat(os.path.join(folder, "ValidationGtBlocksSrgb.mat"), {"ValidationGtBlocksSrgb": gt})
    return folder


def dnd_files(folder, images=1, boxes=20, crop=8):
    """DND's layout: info.mat (v7.3, one reference per image to its 1-based boxes) and images_srgb."""
    os.makedirs(os.path.join(folder, "images_srgb"), exist_ok=True)
    rng = np.random.RandomState(1)
    with h5py.File(os.path.join(folder, "info.mat"), "w") as info:
        refs = []
        for i in range(images):
            tops = 1 + crop * (np.arange(boxes) % 4)
            lefts = 1 + crop * (np.arange(boxes) // 4)
            table = np.stack([tops, lefts, tops + crop - 1, lefts + crop - 1], axis=1).astype(np.float64)
            refs.append(info.create_dataset(f"boxes{i}", data=table.T).ref)
        info.create_group("info").create_dataset("boundingboxes", data=np.array([refs], dtype=h5py.ref_dtype))
        for i in range(images):
            image = rng.rand(4 * crop, (boxes // 4 + 1) * crop, 3).astype(np.float32)
            scipy.io.savemat(os.path.join(folder, "images_srgb", f"{i + 1:04d}.mat"), {"InoisySRGB": image})
    return folder
