"""Scoring a whole test set under one protocol, in one process or across distributed ranks."""
import math
import warnings

import numpy as np

from ..errors import ConfigError
from ..utils.image_io import from_float
from ..utils.distributed import gather_from_all_ranks, rank
from .metric_types import build_metric
from .protocols import get_protocol


class Evaluator:
    """Accumulates per-image scores: ``update(restored, target, name)`` per image, then ``summary()``.

    ``protocol`` is a name from ``PROTOCOLS`` (e.g. 'gopro'), a list of metric configs, or
    ``{'metrics': [...], 'quantize': bool}``; ``quantize`` overrides the protocol's choice.
    """

    def __init__(self, protocol, quantize=None):
        self.protocol = get_protocol(protocol)
        self.quantize = self.protocol.quantize if quantize is None else bool(quantize)
        self.metrics = [build_metric(dict(cfg)) for cfg in self.protocol.metrics]
        self.labels = tuple(label for metric in self.metrics for label in metric.labels)
        if len(set(self.labels)) != len(self.labels):
            raise ConfigError(f"evaluation protocol {self.protocol.name!r}: metric labels repeat {self.labels}; set 'label'")
        self.reset()

    def reset(self):
        self.records = []  # [(image name, {label: value})] in update order, this rank only

    def _prepare(self, img, what):
        img = np.asarray(img)
        if not np.issubdtype(img.dtype, np.floating):
            raise ValueError(f"Evaluator.update expects float images in [0, 1], got {what} of dtype {img.dtype}")
        if img.ndim != 3:
            raise ValueError(f"Evaluator.update expects HxWxC images, got {what} of shape {img.shape}")
        # Every official script clamps the network output; quantising also rounds like img_as_ubyte.
        return from_float(img) if self.quantize else np.clip(img, 0.0, 1.0)

    def update(self, restored, target, name=None):
        """Score one image pair (float HxWxC in [0, 1]); returns and keeps ``{label: value}``.

        ``name`` identifies the image: across ranks a name is counted once, which drops the samples
        DistributedBatchSampler repeats to even out the ranks. Names must be unique within a set.
        """
        restored, target = self._prepare(restored, "restored"), self._prepare(target, "target")
        values = {}
        for metric in self.metrics:
            values.update(metric(restored, target))
        if name is None:
            name = f"<unnamed rank {rank()} #{len(self.records)}>"
        self.records.append((str(name), values))
        return values

    def per_image(self, reduce=True):
        """``[(name, {label: value})]``: from every rank (first occurrence of each name) when ``reduce``.

        With several ranks, ``reduce=True`` is a collective: every rank must call it.
        """
        if not reduce:
            return list(self.records)
        kept = {}
        for records in gather_from_all_ranks(self.records):
            for name, values in records:
                if name not in kept:
                    kept[name] = values
                elif not _same_scores(kept[name], values):
                    warnings.warn(f"image {name!r} was scored twice with different results; counting the first")
        return list(kept.items())

    def summary(self, reduce=True):
        """``{label: mean over images}`` (NaN when nothing was scored)."""
        records = self.per_image(reduce)
        return {
            label: (float(np.mean([values[label] for _, values in records])) if records else math.nan)
            for label in self.labels
        }


def _same_scores(a, b):
    return all(a[k] == b[k] or math.isclose(a[k], b[k], rel_tol=1e-9) for k in a)
