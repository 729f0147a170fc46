"""Resumable training checkpoints: where they live, which to keep, and how optimizer state is named.

A checkpoint ``<run>/checkpoints/iter_<N>.pdckpt`` holds ``{'model', 'ema', 'optimizer', 'scaler',
'iteration', 'data_position', 'rng', 'best', 'lr', 'config'}`` (see ``Trainer.state``). It is
written with ``ppir.weights.save_checkpoint`` (temp file, fsync, rename), so a crash or ``kill -9``
during the write leaves the previous checkpoints intact, and the last ``keep_last`` are kept.
``--load`` also accepts a checkpoint: ``load_weights`` picks its 'model' entry.
"""
import os
import re

import numpy as np
import paddle

from ..errors import ConfigError, PpirError, WeightsError
from ..weights import load_checkpoint, save_checkpoint

CHECKPOINT_PATTERN = re.compile(r"^iter_(\d+)\.pdckpt$")


class CheckpointFolder:
    def __init__(self, folder, keep_last):
        self.folder = folder
        self.keep_last = max(1, int(keep_last))

    def path_for(self, iteration):
        return os.path.join(self.folder, f"iter_{iteration:09d}.pdckpt")

    def save(self, state, iteration):
        path = self.path_for(iteration)
        save_checkpoint(state, path)
        for old in self.all()[: -self.keep_last]:
            os.remove(old)
        return path

    def all(self):
        """Checkpoint paths, oldest first."""
        if not os.path.isdir(self.folder):
            return []
        found = [(int(m.group(1)), name) for name in os.listdir(self.folder) if (m := CHECKPOINT_PATTERN.match(name))]
        return [os.path.join(self.folder, name) for _, name in sorted(found)]

    def latest(self):
        paths = self.all()
        return paths[-1] if paths else None


def resolve_resume(resume, checkpoints):
    """``--resume`` value -> checkpoint path (or None: 'auto' with nothing saved yet starts fresh)."""
    if resume is None:
        return None
    if resume == "auto":
        return checkpoints.latest()
    if not os.path.isfile(resume):
        raise PpirError(f"--resume {resume}: no such checkpoint file")  # the flag, not the config
    return resume


def read_checkpoint(path):
    state = load_checkpoint(path)
    if not isinstance(state, dict) or "iteration" not in state or "model" not in state:
        raise WeightsError(f"{path}: not a ppir training checkpoint (weights only?); use --load for weights")
    return state


# --- optimizer state under stable names --------------------------------------------------------
# Paddle keys optimizer accumulators by the parameters' generated names ("conv2d_12.w_0_moment1_0"),
# which depend on how many layers the process built before. Checkpoints store them under the
# parameters' structured names instead ("tail.weight" + "_moment1_0"), so they load into any
# freshly built copy of the network.

_SEP = "::"


def optimizer_state_to_portable(optimizer_state, net):
    by_generated = {p.name: name for name, p in net.named_parameters()}
    return _rename_keys(optimizer_state, lambda key: _to_structured(key, by_generated))


def optimizer_state_from_portable(portable_state, net):
    by_structured = {name: p.name for name, p in net.named_parameters()}
    return _rename_keys(portable_state, lambda key: _to_generated(key, by_structured), to_tensor=True)


def _rename_keys(state, rename, to_tensor=False):
    out = {}
    for key, value in state.items():
        if isinstance(value, dict):
            value = _rename_keys(value, rename, to_tensor)
        elif to_tensor and isinstance(value, np.ndarray):
            value = paddle.to_tensor(value)
        elif not to_tensor and isinstance(value, paddle.Tensor):
            value = value.numpy()
        out[rename(key)] = value
    return out


def _to_structured(key, by_generated):
    matches = [g for g in by_generated if key == g or key.startswith(g + "_")]
    if not matches:
        return key  # not per-parameter (e.g. a scheduler entry)
    generated = max(matches, key=len)
    return by_generated[generated] + _SEP + key[len(generated):]


def _to_generated(key, by_structured):
    structured, sep, suffix = key.partition(_SEP)
    if not sep:
        return key
    if structured not in by_structured:
        raise ConfigError(f"checkpoint optimizer state names parameter {structured!r}, which this network lacks")
    return by_structured[structured] + suffix
