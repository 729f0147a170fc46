"""Child processes that die with their parent, however the parent dies (``kill -9`` included).

DataLoader workers are forked by the training process; if it is killed outright nothing tells
them, and they would wait on their queues forever. ``die_with_parent`` (a ``worker_init_fn``) asks
Linux to send the worker SIGKILL when its parent goes (``prctl(PR_SET_PDEATHSIG)``); elsewhere a
daemon thread checks every second whether the parent is still the same process.
"""
import ctypes
import ctypes.util
import os
import signal
import threading
import time

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 1.0


def die_with_parent(worker_id=None):
    """Make this process end when its parent does (usable as a DataLoader ``worker_init_fn``)."""
    parent = os.getppid()
    if not _set_parent_death_signal(signal.SIGKILL):
        threading.Thread(target=_watch_parent, args=(parent,), name="ppir-parent-watch", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the request was in place
        os._exit(1)


def _set_parent_death_signal(sig):
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent):
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os._exit(1)
