"""Ctrl-C (SIGINT) and SIGTERM in the photo apps: stop at once, clean up, say what was done.

While ``stop_on_signals`` is active, either signal raises :class:`Interrupted` in the main thread
(at the next Python instruction; a native call running at that moment finishes first). It is a
``BaseException``, so no ``except Exception`` on the way swallows it, and ``finally`` blocks run:
``write_image`` removes its temporary file, finished outputs stay as they are (each was renamed
into place whole). The batch prints its summary line and the command exits 130 (SIGINT) or 143
(SIGTERM), the shell's convention, without a traceback.
"""
import contextlib
import os
import signal
import threading
import time

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A stop signal arrived; ``exit_status`` is 128 + its number."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.exit_status = 128 + int(signum)


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


@contextlib.contextmanager
def stop_on_signals(signals=STOP_SIGNALS):
    """Within the block, SIGINT/SIGTERM raise ``Interrupted`` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise_interrupted) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def finished_since(jobs, reported, start):
    """Outputs of ``jobs`` ((input, output) pairs) not among the ``reported`` manifest entries but
    written whole (renamed into place) since ``start`` (a ``time.perf_counter()`` value): what the
    writer thread finished while the batch was being stopped."""
    seen = {e["output"] for e in reported if e.get("output")}
    began = time.time() - (time.perf_counter() - start)
    return [out for _, out in jobs if os.fspath(out) not in seen and _modified_since(out, began)]


def _modified_since(path, when):
    try:
        return os.path.getmtime(path) >= when
    except OSError:
        return False
