"""The order in which training samples are drawn, as a pure function of (seed, epoch, position).

Why not ``paddle.io.DistributedBatchSampler``: it shuffles with a global generator and keeps its
position only inside a live iterator, so a resumed run would see a different data order. Here
epoch ``e`` is the permutation drawn from ``(seed, e)``; global batch ``b`` of that epoch is the
``b``-th run of ``global_batch`` indices, and rank ``r`` takes its ``r``-th slice. So the samples of
an iteration do not depend on how many processes share it, and resuming at iteration ``n``
continues with exactly the batches a straight run would have drawn next.

Each sample is handed to the dataset with its own seed (derived from seed, epoch and position),
which :class:`SeededItems` applies to Python's and NumPy's global generators before loading it.
Random crops and flips therefore repeat exactly too, whatever the number of worker processes or
how far the DataLoader has prefetched.
"""
import random

import numpy as np
from paddle.io import BatchSampler, Dataset

from ..errors import DatasetError
from .rng import derived_seed


class ResumableBatchSampler(BatchSampler):
    """Endless batches of ``(index, item_seed)`` keys for one rank, starting at ``start_batch``."""

    def __init__(self, dataset_len, global_batch, seed, rank=0, world_size=1, start_batch=0):
        if global_batch % world_size:
            raise DatasetError(f"batch size {global_batch} does not split evenly over {world_size} processes")
        self.dataset_len = dataset_len
        self.global_batch = global_batch
        self.per_rank = global_batch // world_size
        self.seed = seed
        self.rank = rank
        self.start_batch = start_batch
        self.batches_per_epoch = dataset_len // global_batch
        if self.batches_per_epoch == 0:
            raise DatasetError(
                f"the training set has {dataset_len} samples, fewer than one batch of {global_batch}; "
                "lower train.batch_size or add data"
            )

    def position(self, batches_done):
        """``(epoch, batch within epoch)`` after ``batches_done`` global batches."""
        return divmod(batches_done, self.batches_per_epoch)

    def keys(self, batch_number):
        """This rank's ``(index, item_seed)`` pairs for global batch ``batch_number`` (0-based)."""
        epoch, within = self.position(batch_number)
        order = self._permutation(epoch)
        start = within * self.global_batch + self.rank * self.per_rank
        return [(int(order[p]), derived_seed(self.seed, epoch, p)) for p in range(start, start + self.per_rank)]

    def __iter__(self):
        batch_number = self.start_batch
        while True:
            yield self.keys(batch_number)
            batch_number += 1

    def __len__(self):
        return self.batches_per_epoch

    def _permutation(self, epoch):
        if getattr(self, "_cached_epoch", None) != epoch:
            self._cached_order = np.random.RandomState(derived_seed(self.seed, epoch, 0x5EED)).permutation(
                self.dataset_len
            )
            self._cached_epoch = epoch
        return self._cached_order


class SeededItems(Dataset):
    """Wraps a dataset so that ``items[(index, seed)]`` seeds the global generators, then loads."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, key):
        index, seed = key
        random.seed(seed)
        np.random.seed(seed)
        return self.dataset[index]
