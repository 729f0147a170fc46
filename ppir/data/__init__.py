"""Datasets (paired folders, benchmark presets, SIDD/DND .mat, synthetic degradations) and the
per-batch training helpers (MixUp, progressive learning). See docs/datasets.md."""
import inspect

from ..errors import ConfigError
from ..registry import DATASETS
from .dnd import DND, DNDSubmissionWriter, read_dnd_boxes, write_dnd_submission
from .mixup import MIXUP_PRESETS, mixup, mixup_options
from .paired import PairedImageDataset
from .presets import (
    DPDD, HIDE, LOL, SIDD, BenchmarkDataset, FiveK, GoPro, Rain13K, RealBlurJ, RealBlurR, RealSR,
)  # fmt: skip
from .progressive import ProgressiveSchedule, recrop_batch
from .sidd import SIDDValidation, write_sidd_submission
from .synthetic import DEFAULT_PHOTOS, DEFAULT_VAL_PHOTOS, SyntheticDegradationDataset
from .transforms import augment_dihedral, paired_random_crop, random_dihedral


def accepted_options(cls):
    """Keyword names ``cls(...)`` accepts, following ``**options`` up to the parent classes."""
    names = []
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        params = list(inspect.signature(klass.__init__).parameters.values())[1:]
        names += [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return list(dict.fromkeys(names))


def build_dataset(cfg, **defaults):
    """``build_dataset({'name': 'GoPro', 'root': 'data/GoPro', 'split': 'train', ...})``.

    An unknown dataset name or option is a ``ConfigError`` listing what is accepted. ``defaults``
    fill options the config leaves out, where the dataset has them (e.g. ``phase='val'``).
    """
    if not isinstance(cfg, dict) or "name" not in cfg:
        raise ConfigError(f"a dataset config must be a mapping with a 'name' key, got {cfg!r}")
    try:
        cls = DATASETS.get(cfg["name"])
    except KeyError as err:
        raise ConfigError(str(err.args[0])) from None
    accepted = accepted_options(cls)
    unknown = sorted(set(cfg) - {"name"} - set(accepted))
    if unknown:
        raise ConfigError(f"dataset {cfg['name']}: unknown option(s) {', '.join(unknown)}; accepted: {', '.join(accepted)}")
    return DATASETS.build(cfg, **{k: v for k, v in defaults.items() if k in accepted})


__all__ = [
    "BenchmarkDataset", "DATASETS", "DEFAULT_PHOTOS", "DEFAULT_VAL_PHOTOS", "DND", "DNDSubmissionWriter",
    "DPDD", "FiveK", "GoPro", "HIDE", "LOL", "MIXUP_PRESETS", "PairedImageDataset", "ProgressiveSchedule",
    "Rain13K", "RealBlurJ", "RealBlurR", "RealSR", "SIDD", "SIDDValidation", "SyntheticDegradationDataset",
    "accepted_options", "augment_dihedral", "build_dataset", "mixup", "mixup_options", "paired_random_crop",
    "random_dihedral", "read_dnd_boxes", "recrop_batch", "write_dnd_submission", "write_sidd_submission",
]  # fmt: skip
