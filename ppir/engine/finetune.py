"""What a run settles before its first step, for fine-tuning on one's own pairs:

- ``train.pretrained: released``: the weights to start from are the released weights of
  ``arch.name`` / ``arch.task``, downloaded once into the apps' cache (same offline error), unless
  ``--load W`` names others; either way the network's widths are read from those weights (or, on
  ``--resume``, from the checkpoint), so quick-start-sized or custom-width weights fine-tune too.
- ``train.check_data``: the training and validation pairs are checked as ``tools/check_dataset.py
  --quick`` does (headers, sizes, formats, pairing, patch size); problems stop the run, listed.
- ``val.holdout``: with no validation set, a share of the training pairs, chosen by name
  (``ppir.data.holdout``), becomes the ``holdout`` validation set and leaves the training set.
"""
import json
import os

from ..apps.network_loading import weights_file
from ..archs.model_index import config_from_weights, released_model
from ..data.checks import check_dataset_config, config_datasets
from ..data.holdout import holdout_names
from ..errors import BadDataError, ConfigError, DatasetError
from ..registry import DATASETS
from ..utils.atomic import write_json_atomic
from ..weights import read_state_dict
from .checkpoint import read_checkpoint
from .schema import DATASET_FIELDS  # dataset keys the engine reads itself: kept outside NamedSubset

HOLDOUT_SET = "holdout"
HOLDOUT_PROTOCOL = {"name": "holdout", "metrics": [{"name": "PSNR"}, {"name": "SSIM", "mode": "matlab3d"}],
                    "quantize": True}  # fmt: skip
MAX_LISTED = 20


class Preparation:
    """``load``: the weights to start from; ``holdout``: the held-out names (or None); ``notes``:
    what to say in the run's first log line."""

    def __init__(self, load):
        self.load, self.holdout, self.notes = load, None, []

    def note(self):
        return "".join(f"; {note}" for note in self.notes)


def prepare_training(cfg, resume_path=None, load=None):
    """Settle ``cfg`` (widths, held-out split) and the starting weights; check the data."""
    prep = Preparation(load)
    if cfg["train"]["pretrained"]:
        _settle_weights(cfg, prep, resume_path)
    if cfg["train"]["check_data"]:
        check_run_data(cfg)
    held = apply_holdout(cfg)
    if held:
        prep.holdout, total = held
        prep.notes.append(f"held out for validation, never trained on: {len(prep.holdout)} of {total} pairs "
                          f"({', '.join(prep.holdout)})")  # fmt: skip
    return prep


# --- weights -----------------------------------------------------------------------------------


def released_weights(arch_cfg, task=None):
    """The local path of the released weights of ``arch_cfg['name']`` for ``task`` (default
    ``arch_cfg['task']``) from the model index, downloaded once into the apps' cache; the apps'
    errors when offline or not downloadable (MIRNet v1's weights: where to get them)."""
    task = task or arch_cfg.get("task")
    if not task:
        raise ConfigError("train.pretrained: released needs arch.task or train.pretrained_task (which released model)")
    return weights_file(arch_cfg["name"], released_model(arch_cfg["name"], task), None)


def _settle_weights(cfg, prep, resume_path):
    if resume_path:
        state = read_checkpoint(resume_path)["model"]
    else:
        if prep.load is None:
            task = cfg["train"]["pretrained_task"] or cfg["arch"].get("task")
            prep.load = released_weights(cfg["arch"], task)
            prep.notes.append(f"starting from the released {cfg['arch']['name']} {task} weights")
        state = read_state_dict(prep.load)
    options = config_from_weights(cfg["arch"]["name"], state)
    cfg["arch"].update(options)
    if options and not resume_path:
        prep.notes.append("network options from the weights: " + ", ".join(f"{k}={v}" for k, v in options.items()))


def widths_for_evaluation(cfg, path):
    """``--evaluate-only --load W`` with a fine-tune config: the network takes W's widths."""
    if cfg["train"]["pretrained"] and path:
        cfg["arch"].update(config_from_weights(cfg["arch"]["name"], read_state_dict(path)))


# --- data --------------------------------------------------------------------------------------


def check_run_data(cfg):
    """The cheap checks of ``tools/check_dataset.py`` on the training and validation sets; a
    ``DatasetError`` listing the problems (first line: how many, and where) when there are any.

    Folders that cannot be listed are left to the dataset's own error when it is built; with
    ``skip_bad_files`` unreadable files are left to the run, which skips them."""
    lines, unreadable = [], []
    for name, dataset_cfg, patch in config_datasets(cfg, sections=("val",)):
        report = check_dataset_config(name, dataset_cfg, patch_size=patch, deep=False, progress=False)
        skip_bad = bool((dataset_cfg or {}).get("skip_bad_files"))
        found = [p for p in report.problems if p.kind != "layout" and not (skip_bad and p.kind == "unreadable")]
        lines += [f"{name}: {p.line()}" for p in found]
        unreadable += [(name, p) for p in found if p.kind == "unreadable"]
    if not lines:
        return
    if len(unreadable) == len(lines):
        # the same one ``<file>: <why>`` line (and exit status 1) as a file that goes bad mid-run
        files = list(dict.fromkeys(problem.files[0] for _, problem in unreadable))  # val may share train's
        name, problem = unreadable[0]
        why = problem.detail.split(": ", 1)[-1]
        more = f"; {len(files) - 1} more unreadable: {', '.join(files[1:MAX_LISTED])}" if len(files) > 1 else ""
        raise BadDataError(f"{files[0]}: {why} (found before training{more}; to skip such files: "
                           f"{name}.skip_bad_files: true)")
    if len(lines) == 1:
        raise DatasetError(f"{lines[0]} (found before training; fix it, or set train.check_data: false)")
    shown = lines[:MAX_LISTED] + ([f"... (+{len(lines) - MAX_LISTED} more)"] if len(lines) > MAX_LISTED else [])
    raise DatasetError(
        f"{len(lines)} problems in the data, found before training (python tools/check_dataset.py --config-file "
        "CONFIG also looks for duplicates and misaligned pairs; train.check_data: false skips this):\n  "
        + "\n  ".join(shown)
    )


def _inner(dataset_cfg):
    return {k: v for k, v in dataset_cfg.items() if k not in DATASET_FIELDS}


def apply_holdout(cfg):
    """With ``val.holdout`` and no validation set: move the held-out pairs from ``train.dataset``
    to the validation set ``holdout`` (PSNR / SSIM, inputs scored too, best weights chosen on its
    PSNR unless ``val.best_metric`` says otherwise). Returns (held-out names, pairs in all), or None."""
    share = cfg["val"]["holdout"]
    if not share or cfg["val"]["datasets"]:
        return None
    train_cfg = cfg["train"]["dataset"]
    inner = _inner(train_cfg)
    run_keys = {k: train_cfg[k] for k in DATASET_FIELDS if k in train_cfg}
    dataset = DATASETS.build(inner)
    pairs = getattr(dataset, "pairs", None)
    if pairs is None:
        raise ConfigError(f"val.holdout: {type(dataset).__name__} does not list its pairs; give val.datasets instead")
    names = [key for key, _ in pairs]
    if len(names) < 2:
        raise ConfigError(f"val.holdout: the training set has {len(names)} pair(s); holding one out needs at least 2")
    held = holdout_names(names, share)
    cfg["train"]["dataset"] = {"name": "NamedSubset", "dataset": inner, "exclude": held, **run_keys}
    val_dataset = {"name": "NamedSubset", "dataset": dict(inner, phase="val"), "only": held, **run_keys}
    cfg["val"]["datasets"] = {
        HOLDOUT_SET: {"dataset": val_dataset, "protocol": HOLDOUT_PROTOCOL, "max_images": None, "submission": None}
    }
    cfg["val"]["best_metric"] = cfg["val"]["best_metric"] or f"{HOLDOUT_SET}/PSNR"
    cfg["val"]["score_input"] = True
    return held, len(names)


def record_holdout(metrics_path, names, best_scores=None):
    """Add the held-out names and their scores before (input) and after (last validation; the best
    weights' PSNR, and all their scores when ``val.report`` scored them again) to the run's
    ``metrics.json`` (rewritten atomically)."""
    with open(metrics_path, encoding="utf-8") as f:
        metrics = json.load(f)
    metrics[HOLDOUT_SET] = {
        "names": list(names),
        "input": (metrics.get("input") or {}).get(HOLDOUT_SET),
        "last": (metrics.get("last") or {}).get(HOLDOUT_SET),
        "best": metrics.get("best"),
        "best_weights": (best_scores or {}).get(HOLDOUT_SET),
    }
    write_json_atomic(metrics_path, metrics)

