"""The one predictor pipeline every network family shares:

    read -> split (gray / alpha / depth) -> [self-ensemble x8] -> [tiles] -> pad -> backend
         -> crop -> clip -> blend tiles -> average ensemble -> round -> join -> write PNG

A family (``MPRPredictor``, ``MIRNetV2Predictor``) only says which tasks exist (``TaskSpec``:
architecture config, released weights, memory use), how to read its architecture's widths from a
weights file, and, for dual-view input, how to read a job.
"""
import collections
import logging
import os
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..archs import build_arch
from ..errors import ConfigError, PpirError
from ..utils.device import select_device
from ..utils.download import download_cached
from ..utils.image_io import read_image, write_image
from ..weights import load_weights, read_state_dict
from . import inputs
from .backends import ExportCache, select_backend
from .backends.export import network_in_channels
from .backends.selection import one_line
from .ensemble import self_ensemble
from .memory import max_pixels_per_pass, tile_for_budget
from ..utils.padding import crop, pad_to_multiple
from .photo import join_photo, split_photo
from .tiling import run_tiled

log = logging.getLogger("ppir.apps")

Result = collections.namedtuple("Result", "source output error")
Result.__doc__ = "One job of a batch: the input, the file written (or None), the one-line error (or None)."

# Errors that concern one input and must not stop a batch. Anything else is a bug and propagates.
PER_IMAGE_ERRORS = (PpirError, MemoryError, cv2.error)


@dataclass
class TaskSpec:
    """A released model: ``arch`` (a ``build_arch`` config), its weights URL and cached file name,
    and its measured peak memory per input pixel for one forward pass (bytes, per backend)."""

    arch: dict
    url: str
    filename: str
    bytes_per_pixel: dict = field(default_factory=dict)


class BasePredictor:
    tasks = {}  # canonical task name -> TaskSpec, set by each family
    family = "network"

    def __init__(self, task, output_path="output_dir", weight_path=None, device=None, tile=None,
                 tile_overlap=32, self_ensemble=False, backend="auto", fp16=False, tensorrt=False):
        self.task = self.canonical_task(task)
        spec = self.tasks[self.task]
        self.output_path = os.fspath(output_path)
        self.device = select_device(device)
        self.self_ensemble = bool(self_ensemble)
        self.net, self.arch_cfg, self.weights_source = self.load_network(self.task, weight_path)
        self.in_channels = network_in_channels(self.net)
        self.size_multiple = type(self.net).size_multiple
        self.tile, self.tile_overlap = self._check_tiling(tile, tile_overlap)
        self.exports = ExportCache(self.net, self.arch_cfg)
        self.backend = select_backend(backend, self.net, self.exports, self.device, fp16, tensorrt)
        self._bytes_per_pixel = spec.bytes_per_pixel.get(self.backend.name) or max(spec.bytes_per_pixel.values())
        self.failures = []

    # ----- what a family may override -------------------------------------------------------
    @classmethod
    def canonical_task(cls, task):
        for name in cls.tasks:
            if str(task).lower() == name.lower():
                return name
        raise ConfigError(f"unknown {cls.family} task {task!r}; choose one of {', '.join(cls.tasks)}")

    @staticmethod
    def arch_from_weights(state):
        """Architecture options read from the weights' shapes (custom widths); {} = the preset."""
        return {}

    @classmethod
    def load_network(cls, task, weight_path=None):
        """(network in eval mode, its arch config, weights file) for ``task``: the released
        weights (downloaded once) unless ``weight_path`` is given; loaded strictly."""
        spec = cls.tasks[cls.canonical_task(task)]
        if weight_path is None:
            path = download_cached(spec.url, filename=spec.filename)
        else:
            path = os.fspath(weight_path)
        state = read_state_dict(path)
        arch_cfg = {**spec.arch, **cls.arch_from_weights(state)}
        net = build_arch(arch_cfg)
        load_weights(net, state, source=path)
        net.eval()
        return net, arch_cfg, path

    def collect(self, sources):
        """(jobs, failures): jobs are (input, output path); failures are (input, one-line error)."""
        items, failures = inputs.expand_all(sources)
        return self._jobs(items), failures

    def read_job_input(self, item):
        """The photo (HxWxC array) to restore for one job's input."""
        return read_image(item)

    def prepare(self, image):
        """(network input HxWxC float32, photo to restore the layout from)."""
        photo = split_photo(image)
        return photo.rgb, photo

    # ----- the pipeline ---------------------------------------------------------------------
    def run(self, sources):
        """Restore ``sources`` (see ``collect``) and return the written paths; an array (or, for
        dual-view families, a pair of arrays) is restored and returned instead. Inputs that fail
        are skipped with one log line each and kept in ``self.failures``."""
        if self.is_array_input(sources):
            return self.restore(sources)
        written, self.failures = [], []
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
        tile = self.tile_for(x.shape[2], x.shape[3])
        if tile is None:
            return self._restore_padded(x)
        return run_tiled(self._restore_padded, x, tile, self.tile_overlap)

    def _restore_padded(self, x):
        padded, size = pad_to_multiple(x, self.size_multiple)
        return np.clip(crop(self.backend(padded), size), 0.0, 1.0)

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


def numbered_children(state, prefix):
    """How many numbered sub-modules ``prefix0.``, ``prefix1.``, ... a state dict holds."""
    return len({key[len(prefix):].split(".")[0] for key in state if key.startswith(prefix)})


def has_bias(state):
    return any(key.endswith(".bias") for key in state)


def describe_failure(source, err):
    """One line for a job that failed: the error's own line, or an explanation for memory."""
    if isinstance(err, MemoryError):
        return f"{_name(source)}: out of memory; restore it in tiles (e.g. tile=512 / --tile 512)"
    if isinstance(err, cv2.error):
        return f"{_name(source)}: image codec error: {one_line(err)}"
    return one_line(err)


def _name(source):
    return " + ".join(map(os.fspath, source)) if isinstance(source, tuple) else os.fspath(source)
