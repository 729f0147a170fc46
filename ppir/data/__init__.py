"""Datasets (paired folders, benchmark presets, SIDD/DND .mat, synthetic degradations) and the
per-batch training helpers (MixUp, progressive learning). See docs/datasets.md."""
from ..registry import DATASETS, accepted_options
from .holdout import NamedSubset, holdout_names  # noqa: F401 (registers NamedSubset)
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


def build_dataset(cfg, **defaults):
    """``build_dataset({'name': 'GoPro', 'root': 'data/GoPro', 'split': 'train', ...})``.

    An unknown dataset name or option is a ``ConfigError`` listing what is accepted. ``defaults``
    fill options the config leaves out, where the dataset has them (e.g. ``phase='val'``).
    """
    return DATASETS.build(cfg, **defaults)


__all__ = [
    "BenchmarkDataset", "DATASETS", "DEFAULT_PHOTOS", "DEFAULT_VAL_PHOTOS", "DND", "DNDSubmissionWriter",
    "DPDD", "FiveK", "GoPro", "HIDE", "LOL", "MIXUP_PRESETS", "PairedImageDataset", "ProgressiveSchedule",
    "Rain13K", "RealBlurJ", "RealBlurR", "RealSR", "SIDD", "SIDDValidation", "SyntheticDegradationDataset",
    "accepted_options", "augment_dihedral", "build_dataset", "mixup", "mixup_options", "paired_random_crop",
    "random_dihedral", "read_dnd_boxes", "recrop_batch", "write_dnd_submission", "write_sidd_submission",
]  # fmt: skip
