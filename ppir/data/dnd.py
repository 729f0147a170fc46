"""The DND sRGB benchmark (no public ground truth) and its bundled submission format.

Layout: ``<root>/info.mat`` (MATLAB v7.3; ``info/boundingboxes`` is one reference per image to a
20x4 array of 1-based inclusive boxes ``[top, left, bottom, right]``) and
``<root>/images_srgb/0001.mat .. 0050.mat`` (variable ``InoisySRGB``, float in [0, 1]).
"""
import os

import h5py
import numpy as np
from paddle.io import Dataset

from ..errors import DatasetError
from ..registry import DATASETS
from .blocks import block_name, parse_block_name
from .files import preview, require_dir
from .mat_files import load_mat_variable, require_file, save_mat
from .transforms import to_chw

DND_IMAGE_KEY = "InoisySRGB"
DND_BOXES_PER_IMAGE = 20


def read_dnd_boxes(info_path):
    """One ``boxes x 4`` int array per image, in image order, from DND's ``info.mat``."""
    require_file(info_path, "DND info file")
    if not h5py.is_hdf5(info_path):
        raise DatasetError(f"{info_path}: expected a MATLAB v7.3 (HDF5) file, as DND ships info.mat")
    with h5py.File(info_path, "r") as info:
        if "info" not in info or "boundingboxes" not in info["info"]:
            raise DatasetError(f"{info_path}: no info/boundingboxes entry")
        refs = np.asarray(info["info"]["boundingboxes"][()]).ravel()
        return [np.asarray(info[ref][()]).T.astype(np.int64) for ref in refs]


@DATASETS.register()
class DND(Dataset):
    """The 1000 DND crops (50 images x 20 boxes) as items ``{'lq', 'name': '0001_01'}``.

    There is no 'gt' key: scores come from the DND server (write results with
    ``DNDSubmissionWriter``). The last decoded image is kept, so reading in order decodes each
    image once.
    """

    def __init__(self, root):
        super().__init__()
        self.root = require_dir(os.fspath(root))
        self.boxes = read_dnd_boxes(os.path.join(self.root, "info.mat"))
        if not self.boxes:
            raise DatasetError(f"{os.path.join(self.root, 'info.mat')}: no bounding boxes")
        missing = [p for p in map(self.image_path, range(len(self.boxes))) if not os.path.isfile(p)]
        if missing:
            raise DatasetError(f"DND images not found ({len(missing)}): {preview(missing)}")
        self.index = [(i, k) for i, boxes in enumerate(self.boxes) for k in range(len(boxes))]
        self._cached = (None, None)

    def image_path(self, image):
        return os.path.join(self.root, "images_srgb", f"{image + 1:04d}.mat")

    def __len__(self):
        return len(self.index)

    def __getitem__(self, index):
        image, box = self.index[index]
        top, left, bottom, right = self.boxes[image][box]
        crop = self._image(image)[top - 1 : bottom, left - 1 : right]
        return {"lq": to_chw(crop), "name": block_name(image, box)}

    def _image(self, image):
        if self._cached[0] != image:
            path = self.image_path(image)
            data = load_mat_variable(path, DND_IMAGE_KEY)
            if data.ndim != 3 or data.shape[2] != 3:
                raise DatasetError(f"{path}: {DND_IMAGE_KEY} has shape {data.shape}; expected HxWx3")
            self._cached = (image, np.asarray(data, dtype=np.float32))
        return self._cached[1]


class DNDSubmissionWriter:
    """Collects restored crops by name and writes ``<out_dir>/%04d.mat`` for an image as soon as
    all its crops are in: ``{'Idenoised': object array of float32 HxWx3, 'israw': False,
    'eval_version': '1.0'}``, the bundled sRGB format the DND server takes.

    ``close()`` returns the written paths and raises ``DatasetError`` if an image is incomplete.
    """

    def __init__(self, out_dir, boxes_per_image=DND_BOXES_PER_IMAGE):
        self.out_dir = os.fspath(out_dir)
        self.boxes_per_image = boxes_per_image
        self.pending = {}
        self.written = []

    def add(self, name, crop):
        image, box = parse_block_name(name)
        if box >= self.boxes_per_image:
            raise DatasetError(f"DND crop {name!r}: images have {self.boxes_per_image} crops")
        row = self.pending.setdefault(image, {})
        row[box] = crop
        if len(row) == self.boxes_per_image:
            self._write(image, self.pending.pop(image))

    def _write(self, image, crops):
        idenoised = np.empty((self.boxes_per_image,), dtype=object)
        for box, crop in crops.items():
            idenoised[box] = np.clip(np.asarray(crop, dtype=np.float32), 0.0, 1.0)
        path = os.path.join(self.out_dir, f"{image + 1:04d}.mat")
        self.written.append(save_mat(path, {"Idenoised": idenoised, "israw": False, "eval_version": "1.0"}))

    def close(self):
        if self.pending:
            missing = [
                block_name(image, box)
                for image, row in sorted(self.pending.items())
                for box in range(self.boxes_per_image)
                if box not in row
            ]
            raise DatasetError(f"DND result is missing {len(missing)} crop(s): {preview(missing)}")
        return list(self.written)


def write_dnd_submission(crops, out_dir, boxes_per_image=DND_BOXES_PER_IMAGE):
    """Write a whole ``{'0001_01': HxWx3 array, ...}`` mapping; returns the written paths."""
    writer = DNDSubmissionWriter(out_dir, boxes_per_image)
    for name, crop in crops.items():
        writer.add(name, crop)
    return writer.close()
