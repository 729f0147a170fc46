"""Cutting full-resolution image pairs into training patches, in parallel and resumably.

Two ways to choose patches, after the two official scripts:

- random (MPRNet ``generate_patches_SIDD.py --ps 256 --num_patches 300``): ``num_patches``
  uniformly random windows per image. Ours are seeded per image (by ``seed`` and the image's
  name), so a rerun picks the same windows;
- grid (MIRNetV2: SIDD 512/overlap 128, FiveK and RealSR 512/overlap 256): windows every
  ``patch_size - overlap`` pixels plus one flush with the right/bottom edge.

An image smaller than the patch is kept whole as a single patch (the dataset pads it at training
time). Patches go to ``<out_dir>/input/<key>_<n>.png`` and ``<out_dir>/target/<key>_<n>.png``
(PNG, 8 or 16 bit as read), each written to a temporary name and renamed, and a patch whose two
files both exist is not written again, so an interrupted run can simply be restarted.
"""
import multiprocessing
import os
import zlib
from dataclasses import dataclass

from tqdm import tqdm

from ..errors import ConfigError, DatasetError
from ..utils.image_io import write_image
from .files import pair_by_name, require_dir
from .paired import read_rgb
from .random_source import seeded_state


@dataclass(frozen=True)
class PatchJob:
    key: str
    input_path: str
    target_path: str
    out_dir: str
    patch_size: int
    num_patches: int = None
    overlap: int = None
    seed: int = 0


def grid_starts(length, patch_size, stride):
    """Window starts along one axis: every ``stride`` pixels, plus one ending at the far edge."""
    if length <= patch_size:
        return [0]
    return list(range(0, length - patch_size, stride)) + [length - patch_size]


def grid_boxes(height, width, patch_size, overlap):
    stride = patch_size - overlap
    return [
        (top, left)
        for top in grid_starts(height, patch_size, stride)
        for left in grid_starts(width, patch_size, stride)
    ]


def random_boxes(height, width, patch_size, count, rng):
    if height <= patch_size and width <= patch_size:
        return [(0, 0)]
    top_max, left_max = max(0, height - patch_size), max(0, width - patch_size)
    return [(rng.randint(0, top_max + 1), rng.randint(0, left_max + 1)) for _ in range(count)]


def patch_paths(out_dir, key, number):
    name = f"{key}_{number:04d}.png"
    return os.path.join(out_dir, "input", name), os.path.join(out_dir, "target", name)


def _all_written(job):
    return job.num_patches is not None and all(
        os.path.exists(path) for n in range(1, job.num_patches + 1) for path in patch_paths(job.out_dir, job.key, n)
    )


def cut_pair(job):
    """Cut one image pair; returns ``(patches written, patches already there)``."""
    if _all_written(job):
        return 0, job.num_patches
    noisy, clean = read_rgb(job.input_path), read_rgb(job.target_path)
    if noisy.shape[:2] != clean.shape[:2]:
        raise DatasetError(
            f"{job.input_path} ({noisy.shape[1]}x{noisy.shape[0]}) and {job.target_path} "
            f"({clean.shape[1]}x{clean.shape[0]}) differ in size"
        )
    height, width = clean.shape[:2]
    if job.num_patches is not None:
        rng = seeded_state(job.seed, zlib.crc32(job.key.encode("utf-8")))
        boxes = random_boxes(height, width, job.patch_size, job.num_patches, rng)
    else:
        boxes = grid_boxes(height, width, job.patch_size, job.overlap)
    written = 0
    for number, (top, left) in enumerate(boxes, start=1):
        input_path, target_path = patch_paths(job.out_dir, job.key, number)
        if os.path.exists(input_path) and os.path.exists(target_path):
            continue
        window = (slice(top, top + job.patch_size), slice(left, left + job.patch_size))
        write_image(target_path, clean[window])
        write_image(input_path, noisy[window])
        written += 1
    return written, len(boxes) - written


def find_sidd_medium_pairs(src):
    """``[(key, noisy, gt)]`` from SIDD-Medium's ``<src>/<scene>/<n>_NOISY_<x>.PNG`` +
    ``<n>_GT_<x>.PNG`` (``0001_NOISY_SRGB_010.PNG``; the ``<n>_`` prefix may be absent); the key
    is ``<scene>_<x>``."""
    require_dir(src, "SIDD-Medium folder")
    scenes = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    if not scenes:
        raise DatasetError(f"{src}: no scene folders (expected SIDD-Medium's <scene>/*_NOISY_*.PNG and *_GT_*.PNG)")
    pairs = []
    for scene in scenes:
        folder = os.path.join(src, scene)
        for key, (noisy, clean) in pair_by_name([folder, folder], [r".*NOISY_(.+)", r".*GT_(.+)"]):
            pairs.append((f"{scene}_{key}", noisy, clean))
    return pairs


def find_folder_pairs(src, input_dir="input", target_dir="target"):
    """``[(key, input, target)]`` from ``<src>/input`` and ``<src>/target``, paired by name."""
    folders = [os.path.join(src, input_dir), os.path.join(src, target_dir)]
    return [(key, noisy, clean) for key, (noisy, clean) in pair_by_name(folders)]


def find_pairs(src, layout="auto"):
    """``layout``: 'sidd' (SIDD-Medium), 'paired' (``input/`` + ``target/``) or 'auto' (paired
    when both folders exist)."""
    if layout == "auto":
        paired = all(os.path.isdir(os.path.join(src, d)) for d in ("input", "target"))
        layout = "paired" if paired else "sidd"
    if layout == "paired":
        return find_folder_pairs(src)
    if layout == "sidd":
        return find_sidd_medium_pairs(src)
    raise ConfigError(f"unknown source layout {layout!r}; use 'auto', 'sidd' or 'paired'")


def make_jobs(pairs, out_dir, patch_size, num_patches=None, overlap=None, seed=0):
    if (num_patches is None) == (overlap is None):
        raise ConfigError("choose one way to cut patches: num_patches (random) or overlap (grid)")
    if patch_size < 1:
        raise ConfigError(f"patch size must be positive, got {patch_size}")
    if num_patches is not None and num_patches < 1:
        raise ConfigError(f"num_patches must be positive, got {num_patches}")
    if overlap is not None and not 0 <= overlap < patch_size:
        raise ConfigError(f"overlap must be in 0..{patch_size - 1} for patches of {patch_size}, got {overlap}")
    return [PatchJob(key, noisy, clean, out_dir, patch_size, num_patches, overlap, seed) for key, noisy, clean in pairs]


def cut_patches(pairs, out_dir, patch_size, num_patches=None, overlap=None, num_cores=1, seed=0, progress=True):
    """Cut every ``(key, input, target)`` pair; returns ``{'images', 'written', 'skipped'}``."""
    jobs = make_jobs(pairs, os.fspath(out_dir), patch_size, num_patches, overlap, seed)
    for sub in ("input", "target"):
        os.makedirs(os.path.join(out_dir, sub), exist_ok=True)
    totals = {"images": len(jobs), "written": 0, "skipped": 0}
    bar = tqdm(total=len(jobs), unit="image", disable=not progress)
    with _Workers(num_cores) as run:
        for written, skipped in run(cut_pair, jobs):
            totals["written"] += written
            totals["skipped"] += skipped
            bar.update()
    bar.close()
    return totals


class _Workers:
    """``with _Workers(n) as run: run(f, items)``: a process pool's unordered map, or a plain map
    for one core (no processes to start)."""

    def __init__(self, num_cores):
        self.num_cores = max(1, int(num_cores))
        self.pool = None

    def __enter__(self):
        if self.num_cores == 1:
            return map
        self.pool = multiprocessing.Pool(self.num_cores)
        return lambda function, items: self.pool.imap_unordered(function, items, chunksize=1)

    def __exit__(self, *exc):
        if self.pool is None:
            return False
        if exc[0] is None:
            self.pool.close()
        else:
            self.pool.terminate()
        self.pool.join()
        return False
