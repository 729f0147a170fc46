"""The training data order: a pure function of (seed, position), the same for any number of ranks."""
import numpy as np
import pytest

from ppir.engine.sampler import ResumableBatchSampler, SeededItems
from ppir.errors import DatasetError


def take(sampler, count):
    batches = iter(sampler)
    return [next(batches) for _ in range(count)]


def test_each_epoch_is_a_permutation_and_epochs_differ():
    sampler = ResumableBatchSampler(dataset_len=10, global_batch=3, seed=1)
    assert sampler.batches_per_epoch == 3  # the incomplete last batch is dropped
    epochs = [[i for batch in take(ResumableBatchSampler(10, 3, 1, start_batch=3 * e), 3) for i, _ in batch]
              for e in range(2)]  # fmt: skip
    for order in epochs:
        assert len(set(order)) == 9 and set(order) <= set(range(10))
    assert epochs[0] != epochs[1]


def test_resuming_at_a_batch_continues_the_same_sequence():
    straight = take(ResumableBatchSampler(10, 2, seed=5), 12)
    resumed = take(ResumableBatchSampler(10, 2, seed=5, start_batch=7), 5)
    assert resumed == straight[7:]


def test_ranks_split_each_global_batch_the_same_way_a_single_process_sees_it():
    single = take(ResumableBatchSampler(16, 4, seed=3), 6)
    ranks = [take(ResumableBatchSampler(16, 4, seed=3, rank=r, world_size=2), 6) for r in range(2)]
    for step in range(6):
        assert ranks[0][step] + ranks[1][step] == single[step]


def test_item_seeds_drive_the_global_generators():
    class Noise:
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return np.random.rand(), index

    items = SeededItems(Noise())
    assert items[(2, 99)] == items[(2, 99)]
    assert items[(2, 99)][0] != items[(2, 100)][0]


def test_too_small_dataset_or_uneven_split_is_an_error():
    with pytest.raises(DatasetError, match="fewer than one batch of 8"):
        ResumableBatchSampler(5, 8, seed=0)
    with pytest.raises(DatasetError, match="batch size 5 does not split evenly over 2 processes"):
        ResumableBatchSampler(10, 5, seed=0, world_size=2)
