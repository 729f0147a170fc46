"""``ppir.apps.pipeline``: decode/compute/encode overlapped on threads keeps the order, holds at
most a few items in memory, and hands any thread's exception to the caller without hanging."""
import threading
import time

import pytest

from ppir.apps import sharding
from ppir.apps.pipeline import overlapped, sequential


def test_results_come_in_order_and_match_the_sequential_run():
    items = list(range(50))
    compute = lambda x: x * x  # noqa: E731
    write = lambda x: (threading.current_thread().name, x + 1)  # noqa: E731
    got = list(overlapped(iter(items), compute, write))
    assert [value for _, value in got] == [value for _, value in sequential(iter(items), compute, write)]
    assert {name for name, _ in got} == {"ppir-write"}  # written on the writer thread


def test_the_reader_stays_a_bounded_number_of_items_ahead():
    read = []

    def items():
        for i in range(100):
            read.append(i)
            yield i

    def slow_compute(x):
        time.sleep(0.002)
        return x, len(read)

    ahead = [count - index for index, count in overlapped(items(), slow_compute, lambda v: v, depth=2)]
    assert max(ahead) <= 4  # the item being computed, the queue of 2, the one being read


@pytest.mark.parametrize("where", ["read", "compute", "write"])
def test_an_exception_anywhere_reaches_the_caller(where):
    def items():
        for i in range(20):
            if where == "read" and i == 7:
                raise RuntimeError("read failed")
            yield i

    def compute(x):
        if where == "compute" and x == 7:
            raise RuntimeError("compute failed")
        return x

    def write(x):
        if where == "write" and x == 7:
            raise RuntimeError("write failed")
        return x

    got = []
    with pytest.raises(RuntimeError, match=f"{where} failed"):
        for value in overlapped(items(), compute, write):
            got.append(value)
    assert got == list(range(len(got))) and len(got) <= 7
    deadline = time.monotonic() + 5
    while any(t.name.startswith("ppir-") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a pipeline thread is still running"
        time.sleep(0.01)


def test_shards_cover_every_item_once_and_frame_ranges_tile_the_video():
    items = list(range(11))
    for world in (1, 2, 3, 4, 16):
        shares = [sharding.shard(items, rank, world) for rank in range(world)]
        assert sorted(x for share in shares for x in share) == items
        ranges = [sharding.frame_range(11, rank, world) for rank in range(world)]
        assert ranges[0][0] == 0 and ranges[-1][1] == 11
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
