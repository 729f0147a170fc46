"""Collecting per-image scores from every rank, so a distributed evaluation reports the same
numbers as a single-process one."""
import paddle.distributed as dist


def world_size():
    return dist.get_world_size()


def rank():
    return dist.get_rank()


def gather_from_all_ranks(obj):
    """``[obj of rank 0, obj of rank 1, ...]``; just ``[obj]`` when running in one process."""
    if world_size() <= 1:
        return [obj]
    gathered = []
    dist.all_gather_object(gathered, obj)
    return gathered
