"""Checking paired training data before hours are spent training on it.

Finds, each as one line naming the file(s): unpaired files, unreadable / truncated / non-image
files, size mismatches (input x scale != target), channel or bit-depth mismatches, images smaller
than the training patch, and, when ``deep`` (the files are decoded), exact duplicates and
misaligned pairs (a global shift of ``MAX_SHIFT`` pixels or more between input and target,
estimated by phase correlation of their downscaled luminance).

The cheap part (``deep=False``: file headers and tails only) is what a training run does before it
starts; ``tools/check_dataset.py`` does both. Pairing is the datasets' own (``match_by_name``), so
the checker sees exactly the pairs ``PairedImageDataset`` would train on.
"""
import hashlib
import math
import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass

import cv2
import numpy as np
from tqdm import tqdm

from ..errors import ImageReadError, PpirError
from ..registry import DATASETS
from ..utils.image_info import ImageInfo, probe_image
from ..utils.image_io import read_image, to_float
from .files import UnpairedImagesError, match_by_name

KINDS = ("layout", "unpaired", "unreadable", "size", "format", "too_small", "duplicate", "misaligned")
MAX_SHIFT = 2.0  # pixels (of the target): a global shift this large is a misaligned pair
SHIFT_TOLERANCE = 0.25  # how far the estimate may fall short (sub-pixel accuracy after downscaling)
MIN_RESPONSE = 0.25  # a weaker correlation peak (flat images: noise on a clear sky peaks below 0.2) measures no shift
ALIGN_SIDE = 512  # longest side of the luminance images that are phase-correlated
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_CHANNEL_NAMES = {1: "gray", 3: "RGB", 4: "RGBA"}


@dataclass
class Problem:
    kind: str  # one of KINDS
    files: list  # the paths involved
    detail: str  # one line naming the files

    def line(self):
        return f"{self.kind}: {self.detail}"

    def as_dict(self):
        return {"kind": self.kind, "files": list(self.files), "detail": self.detail}


class CheckReport:
    """What checking one dataset found: the pairs' sizes, bit depths and channels, and problems."""

    def __init__(self, name, root=None):
        self.name = name
        self.root = root
        self.pairs = 0
        self.sizes, self.bit_depths, self.channels = Counter(), Counter(), Counter()
        self.problems = []
        self.note = None  # why a dataset was not checked (not made of image files)

    @property
    def ok(self):
        return not self.problems

    def add(self, kind, files, detail):
        self.problems.append(Problem(kind, [os.fspath(f) for f in files], detail))

    def rel(self, path):
        """``path`` relative to the dataset root when it lies inside it (shorter lines)."""
        path = os.fspath(path)
        if self.root:
            rel = os.path.relpath(path, self.root)
            if not rel.startswith(".."):
                return rel
        return path

    def by_kind(self):
        counts = Counter(p.kind for p in self.problems)
        return {kind: counts[kind] for kind in KINDS if counts[kind]}

    def lines(self):
        """One line per problem, then the summary."""
        return [p.line() for p in self.problems] + self.summary_lines()

    def summary_lines(self):
        where = f"{self.name} ({self.root})" if self.root and self.root != self.name else self.name
        if self.note:
            return [f"{where}: {self.note}"]
        sizes = ", ".join(f"{size} ({n})" for size, n in self.sizes.most_common(5))
        if len(self.sizes) > 5:
            sizes += f", ... ({len(self.sizes)} sizes)"
        depths = ", ".join(f"{bits}-bit ({n})" for bits, n in sorted(self.bit_depths.items()))
        channels = ", ".join(f"{_CHANNEL_NAMES.get(c, c)} ({n})" for c, n in sorted(self.channels.items()))
        lines = [f"{where}: {self.pairs} pair(s); sizes {sizes or '-'}; {depths or '-'}; {channels or '-'}"]
        kinds = ", ".join(f"{kind} {n}" for kind, n in self.by_kind().items())
        lines.append(f"{where}: {len(self.problems)} problem(s): {kinds}" if self.problems else f"{where}: no problems found")
        return lines

    def as_dict(self):
        return {
            "name": self.name, "root": self.root, "ok": self.ok, "note": self.note, "pairs": self.pairs,
            "sizes": dict(self.sizes.most_common()), "bit_depths": {str(k): v for k, v in sorted(self.bit_depths.items())},
            "channels": {_CHANNEL_NAMES.get(k, str(k)): v for k, v in sorted(self.channels.items())},
            "problems_by_kind": self.by_kind(), "problems": [p.as_dict() for p in self.problems],
        }  # fmt: skip


# --- entry points --------------------------------------------------------------------------------


def check_paired_root(root, input_dir="input", target_dir="target", **options):
    """Check ``root/<input_dir>/X`` against ``root/<target_dir>/X`` (the ``PairedImageDataset``
    layout; ``input_dir`` may be a list of folders). ``options``: see :func:`check_folders`."""
    input_dirs = [input_dir] if isinstance(input_dir, str) else list(input_dir)
    folders = [os.path.join(os.fspath(root), d) for d in [*input_dirs, target_dir]]
    return check_folders(folders, name=os.fspath(root), root=os.fspath(root), **options)


def check_folders(folders, key_patterns=None, name=None, root=None, **options):
    """Pair ``folders`` (inputs first, target last) by name and check them: every unpaired file is
    a problem of its own, then the pairs are checked (``options``: see :func:`check_pairs`)."""
    report = CheckReport(name or os.path.dirname(os.fspath(folders[-1])), root)
    try:
        pairs, missing, listings = match_by_name(folders, key_patterns)
    except PpirError as err:  # a missing or empty folder, two files with one name
        report.add("layout", [], str(err))
        return report
    for folder, keys in missing:
        for key in keys:
            present = [listing[key] for listing in listings if key in listing]
            names = " and ".join(report.rel(p) for p in present)
            report.add("unpaired", present, f"{names} has no partner in {report.rel(folder)}/")
    return check_pairs(pairs, report, **options)


def check_dataset(dataset, name, patch_size=None, **options):
    """Check a built dataset that reads image pairs (``.pairs``: ``[(key, [paths])]``)."""
    pairs = getattr(dataset, "pairs", None)
    report = CheckReport(name, getattr(dataset, "root", None))
    if pairs is None:
        report.note = f"not checked ({type(dataset).__name__} does not read paired image files)"
        return report
    return check_pairs(pairs, report, patch_size=patch_size, **options)


def check_dataset_config(name, dataset_cfg, patch_size=None, **options):
    """Build the dataset ``dataset_cfg`` names and check it; a dataset that cannot be built because
    of unpaired files is still checked (every unpaired file listed), other build errors are one
    'layout' problem."""
    from ..engine.schema import DATASET_FIELDS  # keys the engine reads itself (the engine imports this package)

    try:
        dataset = DATASETS.build({k: v for k, v in dataset_cfg.items() if k not in DATASET_FIELDS})
    except UnpairedImagesError as err:
        root = os.path.dirname(os.fspath(err.folders[-1]))
        return check_folders(err.folders, err.key_patterns, name=name, root=root, patch_size=patch_size, **options)
    except (PpirError, TypeError, ValueError) as err:  # a missing folder, a wrong option
        report = CheckReport(name, (dataset_cfg or {}).get("root"))
        report.add("layout", [], f"{name}: {err}")
        return report
    return check_dataset(dataset, name, patch_size=patch_size, **options)


def config_datasets(cfg, sections=("val", "test")):
    """``[(section name, dataset config, patch size)]`` for the training set and the evaluation
    sets of ``sections`` a run config names."""
    found = []
    train = (cfg.get("train") or {}).get("dataset")
    if train:
        patch = train.get("patch_size") or (train.get("dataset") or {}).get("patch_size")  # NamedSubset wraps
        found.append(("train.dataset", train, patch))
    for section in sections:
        for set_name, entry in ((cfg.get(section) or {}).get("datasets") or {}).items():
            if entry and entry.get("dataset"):
                found.append((f"{section}.datasets.{set_name}", entry["dataset"], None))
    return found


# --- the checks ----------------------------------------------------------------------------------


def check_pairs(pairs, report, scale=1, patch_size=None, deep=True, progress=True, max_shift=MAX_SHIFT):
    """Check ``pairs`` (``[(key, [input path(s)..., target path])]``) into ``report`` and return it.

    ``scale``: the target is ``scale`` times the input's size (1: same size). ``patch_size``: the
    training crop; smaller images are reported. ``deep``: decode every file, which adds exact
    duplicates and misaligned pairs (shift >= ``max_shift`` target pixels) to the header checks.
    """
    digests = defaultdict(lambda: defaultdict(list))  # folder position -> digest -> paths
    bar = tqdm(pairs, desc=f"checking {report.name}", unit="pair", disable=not progress, file=sys.stderr,
               leave=False)  # fmt: skip
    for key, paths in bar:
        infos, images = _read_pair(paths, report, deep)
        if infos is None:
            continue
        report.pairs += 1
        target = infos[-1]
        report.sizes[target.size] += 1
        report.bit_depths[target.bits] += 1
        report.channels[target.channels] += 1
        sizes_match = _check_formats(paths, infos, scale, report)
        if patch_size and min(target.width, target.height) < _side(patch_size):
            report.add("too_small", [paths[-1]], f"{report.rel(paths[-1])} is {target.size}, smaller than the "
                                                  f"training patch {patch_size} (it would be padded)")  # fmt: skip
        if images is None:
            continue
        for position, (path, image) in enumerate(zip(paths, images)):
            digests[position][_digest(image)].append(path)
        if _digest(images[0]) == _digest(images[-1]):
            report.add("duplicate", [paths[0], paths[-1]],
                       f"{report.rel(paths[0])} and {report.rel(paths[-1])} are identical (nothing to restore)")
        elif sizes_match:
            dx, dy = estimate_shift(images[0], images[-1], scale)
            if math.hypot(dx, dy) >= max_shift - SHIFT_TOLERANCE:
                report.add("misaligned", [paths[0], paths[-1]],
                           f"{report.rel(paths[0])} is shifted by ({dx:+.1f}, {dy:+.1f}) px against "
                           f"{report.rel(paths[-1])}")  # fmt: skip
    for position in sorted(digests):
        for same in digests[position].values():
            if len(same) > 1:
                names = ", ".join(report.rel(p) for p in same)
                report.add("duplicate", same, f"{names} are identical")
    return report


def _read_pair(paths, report, deep):
    """(infos, decoded images or None), or (None, None) after reporting unreadable files."""
    infos, images, failed = [], [], False
    for path in paths:
        try:
            info = probe_image(path)
            if deep:
                image = read_image(path)
                images.append(image)
                info = ImageInfo(image.shape[1], image.shape[0], image.shape[2], 16 if image.dtype == np.uint16 else 8)
            infos.append(info)
        except ImageReadError as err:
            report.add("unreadable", [path], str(err).replace(os.fspath(path), report.rel(path), 1))
            failed = True
    if failed:
        return None, None
    return infos, (images if deep else None)


def _check_formats(paths, infos, scale, report):
    """Size (input x scale == target), channels and bit depth of each input against the target."""
    target, target_path = infos[-1], paths[-1]
    all_match = True
    for path, info in zip(paths[:-1], infos[:-1]):
        if (info.width * scale, info.height * scale) != (target.width, target.height):
            all_match = False
            expected = "the same size" if scale == 1 else f"{scale}x the input's size"
            report.add("size", [path, target_path], f"{report.rel(path)} is {info.size} but {report.rel(target_path)} "
                                                    f"is {target.size} (expected {expected})")  # fmt: skip
        if min(info.channels, 3) != min(target.channels, 3) or info.bits != target.bits:
            report.add("format", [path, target_path], f"{report.rel(path)} is {_format(info)} but "
                                                      f"{report.rel(target_path)} is {_format(target)}")  # fmt: skip
    return all_match


def _format(info):
    return f"{info.bits}-bit {_CHANNEL_NAMES.get(info.channels, info.channels)}"


def _side(patch_size):
    return min(patch_size) if isinstance(patch_size, (list, tuple)) else int(patch_size)


def _digest(image):
    sha = hashlib.sha1(f"{image.shape}{image.dtype}".encode())
    sha.update(np.ascontiguousarray(image).tobytes())
    return sha.hexdigest()


def luminance(image):
    """HxW float32 luma (ITU-R 601) of an HxWxC uint8/uint16 image; gray stays gray, alpha is ignored."""
    x = to_float(image)
    return x[:, :, :3] @ _LUMA if x.shape[2] >= 3 else x[:, :, 0]


def estimate_shift(lq, gt, scale=1, side=ALIGN_SIDE):
    """``(dx, dy)``: the global shift of ``lq``'s content against ``gt``'s, in target pixels, by
    phase correlation of their luminance reduced to at most ``side`` pixels (a Hann window
    keeps the image borders out of it). Sub-pixel; noise, blur and brightness changes leave it
    near 0. (0, 0) when the correlation peak is too weak to say (flat, textureless images)."""
    a, b = luminance(lq), luminance(gt)
    height, width = b.shape
    factor = max(1.0, max(height, width) / side)
    size = (max(16, round(width / factor)), max(16, round(height / factor)))
    a = cv2.resize(a, size, interpolation=cv2.INTER_AREA if a.shape[1] > size[0] else cv2.INTER_LINEAR)
    b = cv2.resize(b, size, interpolation=cv2.INTER_AREA if b.shape[1] > size[0] else cv2.INTER_LINEAR)
    a, b = (a - a.mean()).astype(np.float64), (b - b.mean()).astype(np.float64)
    window = cv2.createHanningWindow(size, cv2.CV_64F)
    (dx, dy), response = cv2.phaseCorrelate(b, a, window)
    if response < MIN_RESPONSE:  # too little texture: the peak is noise, so no shift is claimed
        return 0.0, 0.0
    return dx * width / size[0], dy * height / size[1]
