"""Decode, compute and encode at the same time.

``overlapped(items, compute, write)`` pulls ``items`` (an iterator: decoding happens as it is
advanced) on a reader thread, calls ``compute`` on the calling thread (the device stays busy) and
``write`` on a writer thread, with bounded queues between them so at most ``depth`` decoded and
``depth`` computed items wait in memory. It yields ``write``'s results in order. ``sequential``
does the same work one step after the other (the baseline of ``benchmarks/bench_batch.py``).

Image decoding and encoding (OpenCV) and pipes to ffmpeg release the GIL, so they overlap with the
network. An exception in either thread (a bug: per-input errors are results, not exceptions)
stops the pipeline and is raised in the caller.
"""
import queue
import threading

_END = object()
_POLL_SECONDS = 0.2


def sequential(items, compute, write):
    for item in items:
        yield write(compute(item))


def overlapped(items, compute, write, depth=2):
    decoded, computed, written = queue.Queue(depth), queue.Queue(depth), queue.Queue()
    stop = threading.Event()

    def put(q, value):
        while not stop.is_set():
            try:
                q.put(value, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def read():
        try:
            for item in items:
                if not put(decoded, (None, item)):
                    return
            put(decoded, (None, _END))
        except BaseException as err:  # noqa: B902 - handed to the caller
            put(decoded, (err, None))

    def write_all():
        broken = False  # after an error, keep taking items (so the caller never blocks) unwritten
        while not stop.is_set():
            try:
                value = computed.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
            if value is _END:
                written.put((None, _END))
                return
            if broken:
                continue
            try:
                written.put((None, write(value)))
            except BaseException as err:  # noqa: B902 - handed to the caller
                written.put((err, None))
                broken = True

    threads = [threading.Thread(target=read, daemon=True, name="ppir-read"),
               threading.Thread(target=write_all, daemon=True, name="ppir-write")]
    for thread in threads:
        thread.start()
    try:
        for item in _received(decoded):
            put(computed, compute(item))
            yield from _received(written, wait=False)
        put(computed, _END)
        yield from _received(written)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=1)


def _received(q, wait=True):
    """The values arriving on ``q`` as (error, value) pairs, raising the first error, until _END
    (or, without ``wait``, until ``q`` is empty for now)."""
    while True:
        try:
            err, value = q.get(block=wait)
        except queue.Empty:
            return
        if err is not None:
            raise err
        if value is _END:
            return
        yield value
