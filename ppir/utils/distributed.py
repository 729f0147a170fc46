"""The one home of the rank helpers: running as one of several processes started by
``python -m paddle.distributed.launch``, for training, evaluation, scoring and the apps.

The launcher sets ``PADDLE_TRAINERS_NUM`` (and the rank, endpoints...) in each process's
environment; with more than one trainer we join the group (NCCL on GPUs, gloo on CPUs). Everything
else asks :func:`rank` / :func:`world_size`, and only rank 0 writes files. Paddle is imported on
first use, so ``ppir.metrics`` can score image files without loading it.
"""
import os


def _dist():
    import paddle.distributed as dist

    return dist


def launched_world_size():
    return int(os.environ.get("PADDLE_TRAINERS_NUM", "1"))


def init_distributed():
    """Join the process group when launched with several trainers; returns ``(rank, world_size)``."""
    dist = _dist()
    if launched_world_size() > 1 and not dist.is_initialized():
        dist.init_parallel_env()
    return rank(), world_size()


def world_size():
    dist = _dist()
    return dist.get_world_size() if dist.is_initialized() else 1


def rank():
    dist = _dist()
    return dist.get_rank() if dist.is_initialized() else 0


def is_main():
    return rank() == 0


def barrier():
    if world_size() > 1:
        _dist().barrier()


def any_rank(flags):
    """For each flag, whether it is true on any rank (e.g. [loss is NaN, stop requested])."""
    if world_size() <= 1:
        return [bool(f) for f in flags]
    import numpy as np
    import paddle

    dist = _dist()
    t = paddle.to_tensor(np.array([1.0 if f else 0.0 for f in flags], dtype=np.float32))
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return [bool(v > 0) for v in t.numpy()]


def broadcast_from_main(obj):
    """``obj`` as rank 0 has it, on every rank."""
    if world_size() <= 1:
        return obj
    holder = [obj]
    _dist().broadcast_object_list(holder, src=0)
    return holder[0]


def gather_from_all_ranks(obj):
    """``[obj of rank 0, obj of rank 1, ...]``; just ``[obj]`` when running in one process."""
    if world_size() <= 1:
        return [obj]
    gathered = []
    _dist().all_gather_object(gathered, obj)
    return gathered
