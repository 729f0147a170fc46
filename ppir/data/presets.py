"""Benchmark datasets with their real folder layouts, so a config names the benchmark and its root.

Each preset is a ``PairedImageDataset`` whose folders follow from ``root`` and ``split``; see
docs/datasets.md for the trees. ``phase`` defaults to 'train' for the 'train' split and to 'val'
(whole images, no randomness) for every other split.
"""
import os

import numpy as np

from ..errors import ConfigError, DatasetError
from ..registry import DATASETS
from .paired import PairedImageDataset

RAIN_TEST_SETS = ("Test100", "Rain100H", "Rain100L", "Test1200", "Test2800")


class BenchmarkDataset(PairedImageDataset):
    """Base of the presets: subclasses set ``splits`` (split -> folder under root) and folder names."""

    splits = {}
    inputs = "input"
    target = "target"
    input_key = None
    target_key = None

    def __init__(
        self,
        root,
        split=None,
        phase=None,
        patch_size=None,
        augment=True,
        saturation_jitter=0.0,
        saturation_prob=1 / 3,
        center_crop=None,
        repeat=1,
        seed=None,
    ):
        split = split or next(iter(self.splits))
        self.split = split
        super().__init__(
            self.split_folder(root, split),
            input_dir=self.inputs,
            target_dir=self.target,
            phase=phase or ("train" if split == "train" else "val"),
            patch_size=patch_size,
            augment=augment,
            saturation_jitter=saturation_jitter,
            saturation_prob=saturation_prob,
            center_crop=center_crop,
            repeat=repeat,
            input_key=self.input_key,
            target_key=self.target_key,
            seed=seed,
        )

    def split_folder(self, root, split):
        if split not in self.splits:
            choices = ", ".join(self.splits)
            raise ConfigError(f"{type(self).__name__}: split must be one of {choices}; got {split!r}")
        return os.path.join(os.fspath(root), self.splits[split])


@DATASETS.register()
class GoPro(BenchmarkDataset):
    """``GoPro/{train,test}/{input,target}`` (MPRNet's prepared GoPro, the ``blur`` version)."""

    splits = {"train": "train", "test": "test"}


@DATASETS.register()
class HIDE(BenchmarkDataset):
    """``HIDE/test/{input,target}`` (test only; models are trained on GoPro)."""

    splits = {"test": "test"}


@DATASETS.register("RealBlur_J")
class RealBlurJ(BenchmarkDataset):
    """``RealBlur_J/{train,test}/{input,target}``."""

    splits = {"train": "train", "test": "test"}


@DATASETS.register("RealBlur_R")
class RealBlurR(BenchmarkDataset):
    """``RealBlur_R/{train,test}/{input,target}``."""

    splits = {"train": "train", "test": "test"}


@DATASETS.register()
class Rain13K(BenchmarkDataset):
    """MPRNet's deraining data: ``<root>/train/{input,target}`` (13,712 pairs) and the five test
    sets ``<root>/test/<name>/{input,target}``, chosen with ``split='Rain100H'`` etc."""

    splits = {"train": "train", **{name: os.path.join("test", name) for name in RAIN_TEST_SETS}}


@DATASETS.register()
class SIDD(BenchmarkDataset):
    """``SIDD/train/{input,target}`` (patches from tools/generate_patches_sidd.py) and
    ``SIDD/val/{input,target}`` (validation blocks as PNGs). The .mat blocks: ``SIDDValidation``."""

    splits = {"train": "train", "val": "val"}


@DATASETS.register()
class LOL(BenchmarkDataset):
    """The LOL release as downloaded: ``LOL/our485/{low,high}`` (train, 485 pairs) and
    ``LOL/eval15/{low,high}`` (test, 15 pairs)."""

    splits = {"train": "our485", "test": "eval15"}
    inputs = "low"
    target = "high"


@DATASETS.register()
class FiveK(BenchmarkDataset):
    """``FiveK/{train,val,test}/{input,target}`` (input: camera rendering, target: expert C)."""

    splits = {"train": "train", "val": "val", "test": "test"}


@DATASETS.register()
class RealSR(BenchmarkDataset):
    """RealSR v1 (LR already upsampled to HR size): ``RealSR/{train,test}/x{2,3,4}/{input,target}``.

    Names may be equal in both folders, or RealSR's own ``<id>_LR<scale>`` / ``<id>_HR``.
    """

    splits = {"train": "train", "test": "test"}
    input_key = r"(.+?)(?:_LR\d+)?"
    target_key = r"(.+?)(?:_HR)?"

    def __init__(self, root, split=None, scale=4, **options):
        if scale not in (2, 3, 4):
            raise ConfigError(f"RealSR: scale must be 2, 3 or 4; got {scale!r}")
        self.scale = scale
        super().__init__(root, split, **options)

    def split_folder(self, root, split):
        return os.path.join(super().split_folder(root, split), f"x{self.scale}")


@DATASETS.register()
class DPDD(BenchmarkDataset):
    """Dual-pixel defocus deblurring, 16-bit PNGs: ``DPDD/{train,val,test}/{inputL,inputR,target}``;
    ``lq`` is the left and right views stacked (6 channels).

    ``DPDD/test/indoor_labels.npy`` and ``outdoor_labels.npy`` hold 1-based indices into the test
    images in natural name order; ``subset='indoor'|'outdoor'`` keeps only those, and
    ``self.subsets`` maps each label file found (only the chosen one with ``subset``) to its image names.
    """

    splits = {"train": "train", "val": "val", "test": "test"}
    inputs = ["inputL", "inputR"]
    subset_names = ("indoor", "outdoor")

    def __init__(self, root, split=None, subset=None, **options):
        if subset is not None and subset not in self.subset_names:
            raise ConfigError(f"DPDD: subset must be one of {', '.join(self.subset_names)}; got {subset!r}")
        super().__init__(root, split, **options)
        # Only the label file asked for is read: a damaged outdoor file must not stop indoor scoring.
        wanted = self.subset_names if subset is None else (subset,)
        self.subsets = {
            name: [self.pairs[i][0] for i in self._label_indices(name)]
            for name in wanted
            if os.path.exists(self._label_path(name))
        }
        if subset is not None:
            self.pairs = [self.pairs[i] for i in self._label_indices(subset)]
            if not self.pairs:
                raise DatasetError(f"{self._label_path(subset)}: no images labelled {subset}")

    def _label_path(self, subset):
        return os.path.join(self.root, f"{subset}_labels.npy")

    def _label_indices(self, subset):
        path = self._label_path(subset)
        if not os.path.exists(path):
            raise DatasetError(f"{path}: label file not found (needed for subset={subset!r})")
        try:
            labels = np.load(path, allow_pickle=False).astype(np.int64).ravel()
        except (ValueError, OSError) as err:
            raise DatasetError(f"{path}: not a readable .npy label array ({err})") from None
        if labels.size and (labels.min() < 1 or labels.max() > len(self.pairs)):
            raise DatasetError(
                f"{path}: labels must be 1-based indices in 1..{len(self.pairs)}, "
                f"found {labels.min()}..{labels.max()}"
            )
        return [int(i) - 1 for i in labels]
