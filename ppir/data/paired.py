"""``PairedImageDataset``: degraded/clean image pairs in sibling folders, matched by file name."""
import os

import numpy as np
from paddle.io import Dataset

from ..errors import ConfigError, DatasetError, ImageReadError
from ..registry import DATASETS
from ..utils.image_io import read_image, to_float
from . import transforms as T
from .files import pair_by_name, require_dir
from .random_source import RandomSource

PHASES = ("train", "val", "test")


def read_rgb(path):
    """An image as stored (uint8/uint16), alpha dropped; unreadable files are a ``DatasetError``."""
    try:
        img = read_image(path)
    except ImageReadError as err:
        raise DatasetError(str(err)) from None
    return img[:, :, :3] if img.shape[2] == 4 else img


def check_phase(phase):
    if phase not in PHASES:
        raise ConfigError(f"dataset phase must be one of {', '.join(PHASES)}; got {phase!r}")
    return phase


def check_repeat(repeat):
    if int(repeat) != repeat or repeat < 1:
        raise ConfigError(f"dataset repeat must be a positive integer, got {repeat!r}")
    return int(repeat)


def item_position(index, length, count):
    """The position among ``count`` distinct items of item ``index`` of a dataset of ``length``
    (``repeat`` lists each item several times). Out-of-range indices raise ``IndexError``: it is
    what ends Python's ``for item in dataset`` loop over a class that only has ``__getitem__``."""
    if not -length <= index < length:
        raise IndexError(f"index {index} out of range for a dataset of {length} item(s)")
    return index % count


@DATASETS.register()
class PairedImageDataset(Dataset):
    """Pairs ``<root>/<input_dir>/X.*`` with ``<root>/<target_dir>/X.*`` (any format cv2 reads,
    8 or 16 bit, scaled to [0, 1] by its own bit depth).

    Items: ``{'lq': float32 CxHxW, 'gt': float32 CxHxW, 'name': 'X'}``.

    - ``input_dir`` may be a list of folders; their images are stacked along channels
      (DPDD: ``['inputL', 'inputR']`` gives a 6-channel ``lq``).
    - ``phase='train'``: a random ``patch_size`` crop (reflect-padded at the bottom/right when the
      image is smaller), then, if ``augment``, one of the 8 flips/rotations drawn uniformly, then,
      if ``saturation_jitter`` > 0, a saturation factor in [1-j, 1+j] with probability
      ``saturation_prob`` (MPRNet deblurring: 0.2, 1/3). All identical for input and target.
      ``repeat`` lists every pair that many times per epoch.
    - ``phase='val'``/``'test'``: whole images, no randomness; ``center_crop`` (int) optionally
      keeps the central window only, as MPRNet's training-time validation did.
    - ``input_key``/``target_key``: a regex whose first group is the pairing key, for folders
      whose names differ (``r'(.*)_LR\\d'`` for RealSR's ``Canon_001_LR2.png``).
    - ``seed``: None draws from NumPy's global generator (seeded by the trainer); an int gives
      the dataset its own stream (see ``random_source``).
    """

    def __init__(
        self,
        root,
        input_dir="input",
        target_dir="target",
        phase="train",
        patch_size=None,
        augment=True,
        saturation_jitter=0.0,
        saturation_prob=1 / 3,
        center_crop=None,
        repeat=1,
        input_key=None,
        target_key=None,
        seed=None,
    ):
        super().__init__()
        self.root = os.fspath(root)
        require_dir(self.root)
        self.phase = check_phase(phase)
        self.input_dirs = [input_dir] if isinstance(input_dir, str) else list(input_dir)
        self.target_dir = target_dir
        folders = [os.path.join(self.root, d) for d in [*self.input_dirs, target_dir]]
        input_keys = input_key if isinstance(input_key, (list, tuple)) else [input_key] * len(self.input_dirs)
        self.pairs = pair_by_name(folders, [*input_keys, target_key])
        self.patch_size = patch_size
        self.augment = bool(augment)
        self.saturation_jitter = float(saturation_jitter)
        self.saturation_prob = float(saturation_prob)
        self.center_crop = center_crop
        self.repeat = check_repeat(repeat) if self.phase == "train" else 1
        self.random = RandomSource(seed)

    @property
    def names(self):
        return [key for key, _ in self.pairs]

    def __len__(self):
        return len(self.pairs) * self.repeat

    def __getitem__(self, index):
        key, paths = self.pairs[item_position(index, len(self), len(self.pairs))]
        images = [read_rgb(p) for p in paths]
        if len({img.shape[:2] for img in images}) != 1:
            sizes = ", ".join(f"{p} is {img.shape[1]}x{img.shape[0]}" for p, img in zip(paths, images))
            raise DatasetError(f"images of pair {key!r} differ in size: {sizes}")
        images = self._train_transform(images) if self.phase == "train" else self._eval_transform(images)
        lq = np.concatenate(images[:-1], axis=2) if len(images) > 2 else images[0]
        return {"lq": T.to_chw(lq), "gt": T.to_chw(images[-1]), "name": key}

    def _train_transform(self, images):
        rng = self.random.get()
        if self.patch_size is not None:
            images = T.paired_random_crop(images, self.patch_size, rng)
        if self.augment:
            images = T.random_dihedral(images, rng)
        images = [to_float(img) for img in images]
        return T.random_saturation(images, self.saturation_jitter, self.saturation_prob, rng)

    def _eval_transform(self, images):
        if self.center_crop is not None:
            images = T.center_crop(images, self.center_crop)
        return [to_float(img) for img in images]
