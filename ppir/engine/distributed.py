"""Running as one of several processes started by ``python -m paddle.distributed.launch``.

The launcher sets ``PADDLE_TRAINERS_NUM`` (and the rank, endpoints...) in each process's
environment; with more than one trainer we join the group (NCCL on GPUs, gloo on CPUs). Everything
else asks :func:`rank` / :func:`world_size`, and only rank 0 writes files.
"""
import os

import numpy as np
import paddle
import paddle.distributed as dist


def launched_world_size():
    return int(os.environ.get("PADDLE_TRAINERS_NUM", "1"))


def init_distributed():
    """Join the process group when launched with several trainers; returns ``(rank, world_size)``."""
    if launched_world_size() > 1 and not dist.is_initialized():
        dist.init_parallel_env()
    return rank(), world_size()


def world_size():
    return dist.get_world_size() if dist.is_initialized() else 1


def rank():
    return dist.get_rank() if dist.is_initialized() else 0


def is_main():
    return rank() == 0


def barrier():
    if world_size() > 1:
        dist.barrier()


def any_rank(flags):
    """For each flag, whether it is true on any rank (e.g. [loss is NaN, stop requested])."""
    if world_size() <= 1:
        return [bool(f) for f in flags]
    t = paddle.to_tensor(np.array([1.0 if f else 0.0 for f in flags], dtype=np.float32))
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return [bool(v > 0) for v in t.numpy()]


def broadcast_from_main(obj):
    """``obj`` as rank 0 has it, on every rank."""
    if world_size() <= 1:
        return obj
    holder = [obj]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]
