"""The one predictor pipeline every network shares:

    read -> split (gray / alpha / depth) -> [enlarge] -> [self-ensemble x8] -> [tiles] -> pad
         -> backend -> crop -> clip -> blend tiles -> average ensemble -> round -> join -> write PNG

``Predictor(arch, task=None, weight_path=None, ...)`` runs any network that meets the contract
(``ppir.archs.contract``): what it needs (input channels, size multiple, scale, its released
models, how to read its widths from weights) it asks the network. The family predictors
(``MPRPredictor``, ``MIRNetV2Predictor``, ``MIRNetPredictor``) are ``Predictor`` with the
architecture fixed and their historical signature ``(task, output_path, weight_path, ...)``.
"""
import collections
import logging
import os

import cv2
import numpy as np

from ..archs.contract import contract_of
from ..archs.model_index import match_name
from ..errors import ConfigError, ImageReadError, PpirError, one_line
from ..utils.device import select_device
from ..utils.image_io import read_image, write_image
from ..utils.places import check_writable_folder
from . import inputs
from .backends import ExportCache, select_backend
from .ensemble import self_ensemble
from .memory import max_pixels_per_pass, tile_for_budget
from .finite import check_finite
from .memory_use import bytes_per_pixel
from .oom import OutOfMemory, with_smaller_tiles  # noqa: F401 - OutOfMemory: what a pass raises
from .network_loading import load_network
from ..utils.padding import crop, pad_to_multiple
from .photo import join_photo, split_photo
from .tiling import run_tiled
from .views import enlarge, stack_views

log = logging.getLogger("ppir.apps")

Result = collections.namedtuple("Result", "source output error")
Result.__doc__ = "One job of a batch: the input, the file written (or None), the one-line error (or None)."

# Errors that concern one input and must not stop a batch. Anything else is a bug and propagates.
PER_IMAGE_ERRORS = (PpirError, MemoryError, cv2.error)


class Predictor:
    """``Predictor(arch, task=None, weight_path=None, output_path='output_dir', device=None,
    tile=None, tile_overlap=32, self_ensemble=False, backend='auto')``.

    ``arch``: a registered network name or a ``build_arch`` config; ``task``: one of its
    released models (any case; its weights are downloaded once unless ``weight_path`` is given);
    ``weight_path``: any weights file, the network's widths read from it. Also ``fp16``,
    ``tensorrt`` (GPU, paddle-inference) and ``upscale`` (tasks whose released models restore at
    the target size, such as RealSR: enlarge the photo by the task's factor first; default on).
    Results go to ``<output_path>/<task>/`` (the network's name when there is no task).
    """

    def __init__(self, arch, task=None, weight_path=None, output_path="output_dir", device=None, tile=None,
                 tile_overlap=32, self_ensemble=False, backend="auto", fp16=False, tensorrt=False, upscale=None):
        check_writable_folder(output_path, "output folder")  # before any network is built
        self.device = select_device(device)
        self.net, self.arch_cfg, self.weights_source, self.release = load_network(arch, task, weight_path)
        self.contract = contract_of(self.net)
        self.task = self.release.task if self.release is not None else str(task or self.arch_cfg["name"])
        self.output_path = os.fspath(output_path)
        check_writable_folder(os.path.join(self.output_path, self.task), "output folder")
        self.self_ensemble = bool(self_ensemble)
        self.in_channels = self.contract.in_channels
        self.size_multiple = self.contract.size_multiple
        self.scale = self.contract.scale
        if self.in_channels not in (3, 6):
            raise ConfigError(f"{self.arch_cfg['name']} takes {self.in_channels} input channels; the apps "
                              "restore RGB photos (3) or pairs of RGB views (6)")
        self.upscale = self._check_upscale(upscale)
        self.tile, self.tile_overlap = self._check_tiling(tile, tile_overlap)
        self.exports = ExportCache(self.net, self.arch_cfg)
        self.backend = select_backend(backend, self.net, self.exports, self.device, fp16, tensorrt)
        self._bytes_per_pixel = bytes_per_pixel(self.net, self.arch_cfg, self.contract, self.device)
        self.failures = []

    @property
    def dual_view(self):
        """True for networks that take two stacked views (dual-pixel defocus deblurring)."""
        return self.in_channels == 6

    def _check_upscale(self, upscale):
        factor = self.release.enlarge if self.release is not None else 1
        if upscale and factor == 1:
            raise ConfigError(f"upscale applies to the super-resolution tasks (sr_x2/3/4), not {self.task!r}")
        return factor if factor > 1 and upscale in (None, True) else None

    def collect(self, sources):
        """(jobs, failures): jobs are (input, output path); failures are (input, one-line error).
        Two-view networks take (left, right) pairs (``inputs.expand_pairs``)."""
        items, failures = inputs.expand_pairs(sources) if self.dual_view else inputs.expand_all(sources)
        return self._jobs(items), failures

    def read_job_input(self, item):
        """The photo (HxWxC array) to restore for one job's input, or the (left, right) views."""
        if not self.dual_view:
            return read_image(item)
        left, right = (read_image(path) for path in item)
        if left.shape[:2] != right.shape[:2]:
            raise ImageReadError(f"{item[0]} and {item[1]}: views differ in size ({left.shape[:2]} vs {right.shape[:2]})")
        return left, right

    def prepare(self, image):
        """(network input HxWxC float32, photo to restore the layout from)."""
        if self.dual_view:
            return stack_views(image, self.task)
        photo = split_photo(image)
        if self.upscale:
            return enlarge(photo, self.upscale)
        return photo.rgb, photo

    # ----- the pipeline ---------------------------------------------------------------------
    def run(self, sources):
        """Restore ``sources`` (see ``collect``) and return the written paths; an array (or, for
        dual-view families, a pair of arrays) is restored and returned instead. Inputs that fail
        are skipped with one log line each and kept in ``self.failures``."""
        self.failures = []  # this call's failures only
        if self.is_array_input(sources):
            return self.restore(sources)
        written = []
        for result in self.iter_run(sources):
            if result.error is None:
                written.append(result.output)
            else:
                self.failures.append((result.source, result.error))
                log.warning("skipped: %s", result.error)
        return written

    def iter_run(self, sources):
        """Yield a ``Result`` per job (failures to find inputs first), restoring as it goes."""
        jobs, failures = self.collect(sources)
        for source, output in inputs.renamed(jobs):  # as the command lines print it
            log.info("%s -> %s (same name as another input)", _name(source), output)
        for source, error in failures:
            yield Result(source, None, error)
        for source, output in jobs:
            yield self.run_job(source, output)

    def run_job(self, source, output):
        try:
            return Result(source, self.restore_file(source, output), None)
        except PER_IMAGE_ERRORS as err:
            return Result(source, None, describe_failure(source, err))

    def restore_file(self, source, output):
        return write_image(output, self.restore(self.read_job_input(source)))

    def restore(self, image):
        """Restore one photo array; returns an array of the same shape and dtype."""
        rgb, photo = self.prepare(image)
        x = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None])
        y = self_ensemble(self._restore_tiled, x) if self.self_ensemble else self._restore_tiled(x)
        return join_photo(y[0].transpose(1, 2, 0), photo)

    def _restore_tiled(self, x):
        height, width = x.shape[2], x.shape[3]
        return with_smaller_tiles(lambda tile: self._restore_at(x, tile), height, width,
                                  self.tile_for(height, width), self.tile_overlap, self.size_multiple,
                                  allow_tiles=self.tile != 0)

    def _restore_at(self, x, tile):
        if tile is None:
            return self._restore_padded(x)
        return run_tiled(self._restore_padded, x, tile, self.tile_overlap)

    def _restore_padded(self, x):
        padded, (height, width) = pad_to_multiple(x, self.size_multiple)
        name = getattr(self.backend, "name", None)
        out = check_finite(self.backend(padded), f"backend {name}" if name else "the network")
        return np.clip(crop(out, (height * self.scale, width * self.scale)), 0.0, 1.0)

    def tile_for(self, height, width):
        """Tile side for an image of this size, or None to run it whole."""
        if self.tile == 0:
            return None
        if self.tile is not None:
            return self.tile if max(height, width) > self.tile else None
        max_pixels = max_pixels_per_pass(self._bytes_per_pixel, self.device)
        tile = tile_for_budget(height, width, max_pixels, self.size_multiple)
        return tile if tile is None or tile > self.tile_overlap else self.tile_overlap + self.size_multiple

    # ----- helpers --------------------------------------------------------------------------
    def is_array_input(self, sources):
        if self.dual_view:
            return isinstance(sources, tuple) and len(sources) == 2 and all(isinstance(s, np.ndarray) for s in sources)
        return isinstance(sources, np.ndarray)

    def _jobs(self, items):
        folder = os.path.join(self.output_path, self.task)
        return [(item, os.path.join(folder, name)) for item, name in zip(items, inputs.output_names(items))]

    def _check_tiling(self, tile, overlap):
        m = self.size_multiple
        if overlap is None or int(overlap) < 0:
            raise ConfigError(f"tile_overlap must be >= 0, got {overlap!r}")
        overlap = int(overlap)
        if tile is None or int(tile) == 0:
            return (None if tile is None else 0), overlap
        tile = int(tile) // m * m
        if tile <= overlap or tile < m:
            raise ConfigError(
                f"tile {tile!r} (rounded down to a multiple of {m}) must be larger than tile_overlap {overlap}"
            )
        return tile, overlap


def describe_failure(source, err):
    """One line for a job that failed: the error's own line, or an explanation for memory."""
    if isinstance(err, MemoryError) and not isinstance(err, PpirError):  # OutOfMemory says what was tried
        return f"{_name(source)}: out of memory outside the network pass (reading or assembling the image)"
    if isinstance(err, cv2.error):
        return f"{_name(source)}: image codec error: {one_line(err)}"
    text = one_line(err)
    return text if _name(source) in text else f"{_name(source)}: {text}"


def _name(source):
    return " + ".join(map(os.fspath, source)) if isinstance(source, tuple) else os.fspath(source)


class BasePredictor(Predictor):
    """A family predictor: ``Predictor`` with the architecture fixed (``arch_name``) and the
    signature ``(task, output_path='output_dir', weight_path=None, device=None, tile=None,
    tile_overlap=32, self_ensemble=False, backend='auto')``; ``tasks`` is the family's table of
    released models (``ppir.archs.model_index``)."""

    arch_name = None
    family = "network"
    tasks = {}

    def __init__(self, task, output_path="output_dir", weight_path=None, device=None, tile=None, tile_overlap=32,
                 self_ensemble=False, backend="auto", fp16=False, tensorrt=False, **options):
        super().__init__(self.arch_name, self.canonical_task(task), weight_path, output_path, device, tile,
                         tile_overlap, self_ensemble, backend, fp16, tensorrt, **options)

    @classmethod
    def canonical_task(cls, task):
        return match_name(task, cls.tasks, f"{cls.family} task")

    @classmethod
    def load_network(cls, task, weight_path=None):
        """(network in eval mode, its arch config, weights file) for ``task``: the released
        weights (downloaded once) unless ``weight_path`` is given; loaded strictly."""
        net, arch_cfg, path, _ = load_network(cls.arch_name, cls.canonical_task(task), weight_path)
        return net, arch_cfg, path

