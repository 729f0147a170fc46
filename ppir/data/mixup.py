"""MixUp on a training batch: each (lq, gt) pair is blended with another pair of the same batch.

``lq' = λ·lq + (1-λ)·lq[perm]`` and ``gt' = λ·gt + (1-λ)·gt[perm]`` with the same λ and the same
random permutation for both, so the blended input still degrades to the blended target. Two
official variants, available as presets:

- ``'mprnet'`` (MPRNet denoising, also MIRNet v1 with beta 1.2): λ ~ Beta(0.6, 0.6), one λ per
  sample, always applied; the official loop switches it on after epoch 5 (the trainer's call).
- ``'mirnetv2'`` (MIRNetV2 / basicsr ``mixup: true, mixup_beta: 1.2, use_identity: true``):
  λ ~ Beta(1.2, 1.2), one λ for the whole batch, applied to half the batches (``use_identity``
  adds "do nothing" as a second, equally likely augmentation).
"""
import numpy as np

from ..errors import ConfigError
from .batch_ops import per_sample_weights, take_rows

MIXUP_PRESETS = {
    "mprnet": {"beta": 0.6, "per_sample": True, "prob": 1.0},
    "mirnetv2": {"beta": 1.2, "per_sample": False, "prob": 0.5},
}


def mixup_options(preset=None, **overrides):
    """The options of ``preset`` (or MIRNetV2's λ distribution, always applied) with overrides."""
    if preset is not None and preset not in MIXUP_PRESETS:
        raise ConfigError(f"unknown mixup preset {preset!r}; choose from {', '.join(MIXUP_PRESETS)}")
    options = dict(MIXUP_PRESETS[preset]) if preset else {"beta": 1.2, "per_sample": False, "prob": 1.0}
    options.update({k: v for k, v in overrides.items() if v is not None})
    return options


def mixup(lq, gt, preset=None, beta=None, per_sample=None, prob=None, rng=None):
    """Blend the batch ``(lq, gt)`` (NCHW Paddle tensors or NumPy arrays) with a permutation of itself.

    Returns the new ``(lq, gt)``; unchanged inputs when the ``prob`` draw says no. Random numbers
    come from ``rng`` (NumPy ``RandomState`` API), by default NumPy's global generator, which the
    trainer seeds.
    """
    options = mixup_options(preset, beta=beta, per_sample=per_sample, prob=prob)
    rng = np.random if rng is None else rng
    if options["prob"] < 1.0 and rng.rand() >= options["prob"]:
        return lq, gt
    count = lq.shape[0]
    lam = rng.beta(options["beta"], options["beta"], size=count if options["per_sample"] else 1)
    perm = rng.permutation(count)
    return _blend(lq, lam, perm), _blend(gt, lam, perm)


def _blend(batch, lam, perm):
    lam = per_sample_weights(lam, batch)
    return lam * batch + (1.0 - lam) * take_rows(batch, perm)
