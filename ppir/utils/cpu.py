"""Letting the CPU build of Paddle use the machine: every available core for its math library, and
freed memory kept for reuse instead of being handed back to the system after every operation.

Measured on this project's 2-core machine (MPRNet-Deraining, one 256x256 image, dygraph, Paddle
3.3.1): 30.7 s as Paddle starts, 21.1 s with the memory setting, 12.6 s with both.

* Memory: Paddle's CPU convolutions allocate large temporary buffers on every call. glibc serves
  allocations above its mmap threshold with fresh pages and unmaps them when they are freed, so
  every call pays the page faults of zeroing new pages again (about 8 s of system time in the
  pass above). Raising ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` lets malloc reuse freed
  memory. The price: the process keeps its peak memory rather than returning it to the system.
* Threads: Paddle's CPU kernels use one thread unless told otherwise (importing Paddle sets
  ``OMP_NUM_THREADS=1`` when it is unset). An ``OMP_NUM_THREADS`` set before that (by the user,
  or by ``paddle.distributed.launch``, which gives each process one thread) is respected.

Both are best effort: another C library, or a Paddle without the setting, is left as it is.
"""
import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
KEEP_FREED_BYTES = 2**31 - 1  # the largest value mallopt's int argument takes

_done = False


def available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def math_threads():
    """Threads for Paddle's CPU kernels: ``OMP_NUM_THREADS`` as set before Paddle was imported
    (importing Paddle sets it to 1 when unset), else the available cores shared among the
    processes ``paddle.distributed.launch`` started on this machine."""
    from .. import REQUESTED_OMP_THREADS

    value = REQUESTED_OMP_THREADS or ""
    if value.isdigit() and int(value) > 0:
        return int(value)
    local_processes = os.environ.get("PADDLE_LOCAL_SIZE", "1")
    return max(1, available_cores() // (int(local_processes) if local_processes.isdigit() else 1))


def keep_freed_memory():
    """Ask glibc to keep freed memory for reuse; False where that is not possible."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return all(mallopt(param, ctypes.c_int(KEEP_FREED_BYTES)) == 1 for param in (M_MMAP_THRESHOLD, M_TRIM_THRESHOLD))


def tune_cpu_runtime():
    """Apply both settings once per process (later calls do nothing)."""
    global _done
    if _done:
        return
    _done = True
    keep_freed_memory()
    try:
        from paddle.base import core

        core.set_num_threads(math_threads())
    except (ImportError, AttributeError):
        pass
