"""Training pairs made on the fly from clean photos: no download needed to train or test a model.

With ``root=None`` the photos are the ones bundled with scikit-image (``DEFAULT_PHOTOS``; the
gray ones are repeated to 3 channels). Sampling is cheap: photos are decoded once and kept in
memory, and a training item crops first (plus the few border pixels a blur needs) and degrades
only the crop.
"""
import functools
import os
import zlib

import numpy as np
import skimage.data
from paddle.io import Dataset

from ..errors import ConfigError, DatasetError
from ..registry import DATASETS
from ..utils.image_io import to_float
from ..utils.sorting import natural_key
from . import transforms as T
from .degradations import Degrader
from .files import list_images, preview
from .paired import check_phase, check_repeat, item_position, read_rgb
from .random_source import RandomSource, seeded_state

# Bundled with scikit-image (no network): 6 colour photos, then 7 gray ones.
DEFAULT_PHOTOS = (
    "astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
    "camera", "coins", "moon", "grass", "gravel", "brick", "clock",
)  # fmt: skip
DEFAULT_VAL_PHOTOS = ("chelsea", "camera")
VAL_EVERY = 10  # with no val_names and no default val photo, every tenth photo (natural order) is held out


def as_rgb(img):
    if img.ndim == 2:
        img = img[:, :, None]
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3])


@functools.lru_cache(maxsize=None)
def skimage_photo(name):
    """A scikit-image sample photo as uint8 HxWx3 (decoded once per process, read-only)."""
    loader = getattr(skimage.data, name, None)
    if loader is None:
        raise ConfigError(f"scikit-image has no sample photo {name!r}; e.g. {', '.join(DEFAULT_PHOTOS)}")
    img = as_rgb(np.asarray(loader()))
    img.setflags(write=False)
    return img


@DATASETS.register()
class SyntheticDegradationDataset(Dataset):
    """``{'lq': degraded, 'gt': clean, 'name': photo}`` pairs made from clean photos.

    - ``root``: a folder of clean photos; ``None`` uses scikit-image's (``photos`` picks which).
    - ``degradation``: one of 'noise' (Gaussian, ``sigma`` on the 0-255 scale), 'poisson'
      (``poisson_peak``), 'motion_blur' (``motion_length``), 'defocus_blur'
      (``defocus_radius``), 'blur' (either), 'rain' (``rain_*``), or a list applied in order
      (e.g. ``['motion_blur', 'noise']``). Each parameter is a number or a ``[low, high]`` range.
    - ``split``: 'train' photos or the held-out 'val' photos (``val_names``; default: those of
      ``DEFAULT_VAL_PHOTOS`` among the photos, else every tenth photo from the first; a
      ``root``'s photos are in natural order). Defaults to match ``phase``.
    - ``phase='train'``: random ``patch_size`` crops, 8-way flips/rotations (``augment``),
      fresh degradations each time; ``repeat`` photos per epoch. Random numbers come from NumPy's
      global generator, or the dataset's own stream with ``seed``.
    - ``phase='val'``/``'test'``: whole photos (or ``center_crop``), degraded with a generator
      seeded by ``seed`` (0 when None) and the photo's name, so every run sees the same pairs.
    - ``cache``: keep decoded photos of ``root`` in memory (scikit-image photos always are).
    """

    def __init__(
        self,
        root=None,
        degradation="noise",
        phase="train",
        split=None,
        patch_size=128,
        photos=None,
        val_names=None,
        sigma=25,
        poisson_peak=(10, 100),
        motion_length=(5, 21),
        defocus_radius=(1.0, 4.0),
        rain_amount=(100, 400),
        rain_length=(8, 24),
        rain_angle=(-20, 20),
        rain_intensity=(0.3, 0.8),
        augment=True,
        repeat=1,
        center_crop=None,
        seed=None,
        cache=True,
    ):
        super().__init__()
        self.phase = check_phase(phase)
        self.split = split or ("train" if self.phase == "train" else "val")
        if self.split not in ("train", "val"):
            raise ConfigError(f"synthetic dataset split must be 'train' or 'val'; got {split!r}")
        self.degrade = Degrader(
            degradation,
            {
                "sigma": sigma, "poisson_peak": poisson_peak, "motion_length": motion_length,
                "defocus_radius": defocus_radius, "rain_amount": rain_amount, "rain_length": rain_length,
                "rain_angle": rain_angle, "rain_intensity": rain_intensity,
            },
        )  # fmt: skip
        self.root = None if root is None else os.fspath(root)
        self._paths = list_images(self.root) if self.root is not None else None
        available = sorted(self._paths, key=natural_key) if self._paths else list(photos or DEFAULT_PHOTOS)
        unknown = [] if self._paths else [n for n in available if not callable(getattr(skimage.data, n, None))]
        if unknown:
            raise ConfigError(f"scikit-image has no sample photo {preview(unknown)}; e.g. {', '.join(DEFAULT_PHOTOS)}")
        self.names = self._split_names(available, val_names)
        self.patch_size = patch_size
        self.augment = bool(augment)
        self.repeat = check_repeat(repeat) if self.phase == "train" else 1
        self.center_crop = center_crop
        self.seed = seed
        self.random = RandomSource(seed)
        self._cache = {} if cache else None
        if self.phase == "train" and patch_size is None:
            raise ConfigError("synthetic dataset: phase 'train' needs a patch_size")

    def _split_names(self, available, val_names):
        if val_names is None:
            defaults = [n for n in DEFAULT_VAL_PHOTOS if n in available] if self.root is None else []
            val_names = defaults or (available[::VAL_EVERY] if len(available) > 1 else [])
        unknown = [n for n in val_names if n not in available]
        if unknown:
            raise ConfigError(f"val_names not among the photos: {preview(unknown)} (photos: {preview(available)})")
        names = [n for n in available if (n in val_names) == (self.split == "val")]
        if not names:
            source = self.root or "scikit-image photos"
            raise DatasetError(f"{source}: no {self.split} photos left (val_names={list(val_names)})")
        return names

    def photo(self, name):
        """The clean photo as stored (uint8/uint16 HxWx3)."""
        if self._paths is None:
            return skimage_photo(name)
        if self._cache is not None and name in self._cache:
            return self._cache[name]
        img = as_rgb(read_rgb(self._paths[name]))
        if self._cache is not None:
            self._cache[name] = img
        return img

    def __len__(self):
        return len(self.names) * self.repeat

    def __getitem__(self, index):
        name = self.names[item_position(index, len(self), len(self.names))]
        clean = self.photo(name)
        if self.phase == "train":
            lq, gt = self._training_pair(clean)
        else:
            lq, gt = self._validation_pair(clean, name)
        return {"lq": T.to_chw(lq), "gt": T.to_chw(gt), "name": name}

    def _training_pair(self, clean):
        rng = self.random.get()
        margin = self.degrade.margin
        (crop,) = T.paired_random_crop([clean], self.patch_size + 2 * margin, rng)
        if self.augment:
            (crop,) = T.random_dihedral([crop], rng)
        gt = to_float(crop)
        lq = self.degrade(gt, rng)
        inner = slice(margin, gt.shape[0] - margin), slice(margin, gt.shape[1] - margin)
        return lq[inner], gt[inner]

    def _validation_pair(self, clean, name):
        if self.center_crop is not None:
            (clean,) = T.center_crop([clean], self.center_crop)
        gt = to_float(clean)
        rng = seeded_state(self.seed or 0, zlib.crc32(name.encode("utf-8")))
        return self.degrade(gt, rng), gt
