"""Every config in configs/ parses, trains 2 iterations and evaluates all its sets, with tiny
widths and tiny on-disk replicas of each benchmark's folder layout."""
import glob
import json
import os

import cv2
import numpy as np
import pytest

from ppir.data import BenchmarkDataset
from ppir.engine.config import load_config
from ppir.engine.runner import evaluate, train
from ppir.registry import DATASETS
from engine_support import REPO, TINY_MPRNET, dnd_files, sidd_mat_files

CONFIGS = sorted(glob.glob(os.path.join(REPO, "configs", "*.yaml")))
TINY_ARCHS = {
    "MPRNet": {k: v for k, v in TINY_MPRNET.items() if k != "name"},
    "MIRNetV2": {"n_feat": 16, "n_MRB": 1},
    "MIRNet": {"n_feat": 8, "n_RRG": 1, "n_MSRB": 1},
}


def write_images(folder, names, bits=8, size=(32, 40), noise=0.0):
    """Smooth random photos, the same scene per name in every folder (plus ``noise``), so that inputs
    and targets correlate as real pairs do (RealBlur's ECC alignment needs that)."""
    os.makedirs(folder, exist_ok=True)
    peak = 65535 if bits == 16 else 255
    for index, name in enumerate(names):
        scene = np.random.RandomState(index).rand(*size, 3).astype(np.float32)
        img = cv2.GaussianBlur(scene, (0, 0), 2) + np.random.RandomState(100 + index).normal(0, noise, scene.shape)
        img = np.round(np.clip(img, 0, 1) * peak).astype(np.uint16 if bits == 16 else np.uint8)
        cv2.imwrite(os.path.join(folder, name + ".png"), img)


def replica(dataset_cfg, base):
    """``dataset_cfg`` with its root replaced by a tiny folder in the same layout."""
    cfg = dict(dataset_cfg)
    name = cfg["name"]
    if name == "SyntheticDegradationDataset":
        return cfg
    root = os.path.join(base, name + "_" + str(abs(hash(cfg["root"])) % 10**6))
    if name == "SIDDValidation":
        cfg["root"] = sidd_mat_files(root)
        return cfg
    if name == "DND":
        cfg["root"] = dnd_files(root)
        return cfg
    if name == "PairedImageDataset":  # the fine-tune configs: <root>/<input_dir(s)>/ and <root>/<target_dir>/
        inputs = cfg.get("input_dir", "input")
        for sub in [inputs] if isinstance(inputs, str) else inputs:
            write_images(os.path.join(root, sub), ["a", "b", "c"], noise=0.02)
        write_images(os.path.join(root, cfg.get("target_dir", "target")), ["a", "b", "c"])
        cfg["root"] = root
        return cfg
    cls = DATASETS.get(name)
    assert issubclass(cls, BenchmarkDataset), f"no replica recipe for dataset {name}"
    split = cfg.get("split") or next(iter(cls.splits))
    folder = os.path.join(root, cls.splits[split])
    if "scale" in cfg:
        folder = os.path.join(folder, f"x{cfg['scale']}")
    bits = 16 if name == "DPDD" else 8
    inputs = cls.inputs if isinstance(cls.inputs, list) else [cls.inputs]
    for sub in inputs:
        write_images(os.path.join(folder, sub), ["a", "b", "c"], bits, noise=0.02)
    write_images(os.path.join(folder, cls.target), ["a", "b", "c"], bits)
    for index, subset in enumerate(getattr(cls, "subset_names", ())):
        np.save(os.path.join(folder, f"{subset}_labels.npy"), np.array([index + 1]))
    cfg["root"] = root
    return cfg


def shrink(cfg, base):
    """Tiny widths, data, batches and schedules; everything else as the config says."""
    cfg["output_dir"] = os.path.join(base, "out")
    cfg["arch"].update(TINY_ARCHS[cfg["arch"]["name"]])
    train_cfg = cfg["train"]
    train_cfg.update(batch_size=2, num_workers=0, total_iters=2)
    train_cfg["pretrained"] = None  # no download here: tests/test_finetune.py covers the released-weights start
    train_cfg["dataset"] = dict(replica(train_cfg["dataset"], base), patch_size=16)
    if train_cfg["progressive"]["iters"]:
        stages = len(train_cfg["progressive"]["iters"])
        train_cfg["progressive"] = {"iters": [1] * stages, "patch_sizes": [8] + [16] * (stages - 1),
                                    "batch_sizes": [2] + [1] * (stages - 1)}  # fmt: skip
    if train_cfg["mixup"]["start_iter"] is not None:
        train_cfg["mixup"]["start_iter"] = 1
    for section in ("val", "test"):
        for entry in cfg[section]["datasets"].values():
            entry["dataset"] = replica(entry["dataset"], base)
    cfg["val"]["interval"] = 2
    cfg["checkpoint"]["interval"] = 2
    cfg["log"].update(progress_bar=False, enable_visualdl=False)
    return cfg


def test_the_configs_folder_has_every_experiment():
    names = {os.path.basename(p) for p in CONFIGS}
    assert {
        "quickstart_denoising.yaml", "mprnet_deblurring.yaml", "mprnet_denoising.yaml", "mprnet_deraining.yaml",
        "mirnetv2_real_denoising.yaml", "mirnetv2_enhancement_lol.yaml", "mirnetv2_enhancement_fivek.yaml",
        "mirnetv2_sr_x2.yaml", "mirnetv2_sr_x3.yaml", "mirnetv2_sr_x4.yaml", "mirnetv2_defocus.yaml",
        "mirnet_denoising.yaml",
    } <= names  # fmt: skip


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_config_trains_and_evaluates(path, tmp_path):
    cfg = shrink(load_config(path), str(tmp_path))
    trainer = train(cfg)
    assert trainer.iteration == 2
    assert set(trainer.last_scores) == set(cfg["val"]["datasets"])
    weights = os.path.join(trainer.run_dir, "weights", "final.pdparams")
    sets = set(cfg["val"]["datasets"]) | set(cfg["test"]["datasets"])
    summaries = evaluate(cfg, weights)
    assert set(summaries) == sets
    metrics = json.load(open(os.path.join(cfg["output_dir"], "metrics.json"), encoding="utf-8"))
    assert metrics == json.loads(json.dumps(summaries))
    for set_name, scores in summaries.items():
        submission = {**cfg["val"]["datasets"], **cfg["test"]["datasets"]}[set_name]["submission"]
        assert scores or submission == "dnd", set_name  # only DND has no local score
