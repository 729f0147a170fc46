"""A held-out share of a paired dataset, chosen by name, for validating a fine-tune that was given
no validation set.

``holdout_names`` picks the pairs whose name hashes lowest (sha1), so the choice depends only on
the names: the same files are held out in every run, on every machine, in any listing order, and
adding a few pairs moves few others. ``NamedSubset`` then keeps (``only``) or drops (``exclude``)
those names from any dataset that lists its pairs, so the held-out pairs are never trained on.
"""
import hashlib
import math

from paddle.io import Dataset

from ..errors import ConfigError
from ..registry import DATASETS
from ..utils.sorting import natural_key
from .files import preview


def holdout_names(names, share, minimum=1):
    """The ``max(minimum, round(share * len(names)))`` names with the lowest sha1, in natural order."""
    names = list(names)
    count = max(minimum, int(math.floor(share * len(names) + 0.5)))
    ranked = sorted(names, key=lambda n: hashlib.sha1(str(n).encode("utf-8")).hexdigest())
    return sorted(ranked[:count], key=natural_key)


@DATASETS.register()
class NamedSubset(Dataset):
    """The pairs of ``dataset`` (a dataset config) whose names are in ``only``, or not in ``exclude``.

    The inner dataset must list its pairs (``PairedImageDataset`` and the presets do); names that
    are not among them are an error, so a renamed file cannot silently end up in training.
    """

    def __init__(self, dataset, only=None, exclude=None):
        super().__init__()
        if (only is None) == (exclude is None):
            raise ConfigError("NamedSubset: give 'only' or 'exclude' (a list of pair names)")
        inner = DATASETS.build(dataset)
        pairs = getattr(inner, "pairs", None)
        if pairs is None:
            raise ConfigError(f"NamedSubset: {type(inner).__name__} does not list its pairs by name")
        chosen = set(map(str, only if only is not None else exclude))
        unknown = sorted(chosen - {key for key, _ in pairs}, key=natural_key)
        if unknown:
            raise ConfigError(f"NamedSubset: no pair named {preview(unknown)} in {getattr(inner, 'root', dataset)}")
        keep = only is not None
        inner.pairs = [pair for pair in pairs if (pair[0] in chosen) == keep]
        if not inner.pairs:
            raise ConfigError(f"NamedSubset: no pairs left of {getattr(inner, 'root', dataset)}")
        self.inner = inner

    @property
    def pairs(self):
        return self.inner.pairs

    @property
    def root(self):
        return getattr(self.inner, "root", None)

    @property
    def names(self):
        return [key for key, _ in self.inner.pairs]

    def __len__(self):
        return len(self.inner)

    def __getitem__(self, index):
        return self.inner[index]
