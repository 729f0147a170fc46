"""One batch over the processes of ``python -m paddle.distributed.launch``.

The launcher starts one process per device (``--devices 0,1,2,3``; ``--nproc_per_node N`` on CPU)
on each machine (``--nnodes``, ``--master``) and tells each its rank (``PADDLE_TRAINER_ID``), the
number of processes (``PADDLE_TRAINERS_NUM``) and its GPU (``FLAGS_selected_gpus``). Every process
lists the same inputs, takes every ``world``-th one from its rank on (so each input is restored
exactly once, nothing is padded by duplication), and at the end the processes exchange their
results through the process group (NCCL on GPUs, gloo on CPUs; ``batch``): rank 0 writes the manifest and
prints the one summary. Per-input failures are results like any other, so every process always
reaches the exchange; no process waits for one that gave up.
"""
import os
import signal
import time

from ..utils import distributed
from ..utils.device import gpu_available

# How long rank 0 of a failed run lets the launcher see the other ranks fail first (see ``leave``).
LAUNCHER_POLL_SECONDS = 10.0

# Collectives time out after 30 min by default; a process that drew larger photos may finish
# later than that after the others, and it is not a failure.
EXCHANGE_TIMEOUT_MS = str(7 * 24 * 3600 * 1000)


def launched():
    return distributed.launched_world_size() > 1


def rank_device(device):
    """The device of this process: under the launcher, 'gpu' (or the default, when there is a GPU)
    means the GPU the launcher gave this process, never a fixed one."""
    if not launched():
        return device
    if device in (None, "auto"):
        device = "gpu" if gpu_available() else "cpu"
    if str(device).lower().startswith("gpu"):
        return f"gpu:{os.environ.get('FLAGS_selected_gpus', '0').split(',')[0]}"
    return device


def join():
    """(rank, world size), after joining the launcher's process group."""
    if launched():
        os.environ.setdefault("PADDLE_PG_TIMEOUT", EXCHANGE_TIMEOUT_MS)
    return distributed.init_distributed()


def shard(items, rank, world):
    """This rank's share: every ``world``-th item from ``rank`` on."""
    return list(items)[rank::world]


def frame_range(count, rank, world):
    """[start, end) of this rank's consecutive frames out of ``count``."""
    return count * rank // world, count * (rank + 1) // world


def leave(status, rank):
    """``status``, once every rank is here (so rank 0 has printed the summary and written the
    manifest before any process ends). When the run failed, the launcher stops the job at the first
    failed process and prints that process's log again; the others end first, so that log is
    not rank 0's and the summary is printed once. Rank 0 then ends with ``status`` when the
    launcher stops it (normally within a second or two; at the latest after LAUNCHER_POLL_SECONDS)."""
    if distributed.world_size() <= 1:
        return status
    distributed.barrier()
    if status == 0 or rank != 0:
        return status
    signal.signal(signal.SIGTERM, lambda *_: os._exit(status))
    time.sleep(LAUNCHER_POLL_SECONDS)
    return status
