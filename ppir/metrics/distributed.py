"""Collecting per-image scores from every rank, so a distributed evaluation reports the same
numbers as a single-process one.

Paddle is imported on first use, so scoring image files with ``ppir.metrics`` does not load it.
"""


def rank():
    import paddle.distributed as dist

    return dist.get_rank()


def gather_from_all_ranks(obj):
    """``[obj of rank 0, obj of rank 1, ...]``; just ``[obj]`` when running in one process."""
    import paddle.distributed as dist

    if dist.get_world_size() <= 1:
        return [obj]
    gathered = []
    dist.all_gather_object(gathered, obj)
    return gathered
