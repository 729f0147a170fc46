"""One inference thread per device, fed by a bounded queue.

The thread owns the predictor: it builds it (weights loaded, backend verified against dygraph by
``select_backend``), warms it up on a small image, and only then reports ready; afterwards it
takes jobs one at a time. The HTTP side never computes: it admits a request (a slot, or
``QueueFull`` when ``max_queue`` requests are already admitted), submits the decoded image, and
awaits the job's future. A job still waiting when its client leaves or its time runs out is taken
off the queue (``cancel``); a job already running finishes and its result is dropped (a forward
pass cannot be interrupted).

A job that runs out of memory fails; its arrays are released before the next job starts (freed
heap pages go back to the system; on a GPU Paddle's cached blocks; ONNX Runtime's arena shrinks
at the end of the next run).
"""
import collections
import concurrent.futures
import ctypes
import gc
import logging
import threading
import time

import numpy as np

from ..apps.backends.selection import one_line
from ..utils.out_of_memory import is_out_of_memory
from ..utils.device import is_gpu

log = logging.getLogger("ppir.serve")

WARMUP_SIDE = 64


class QueueFull(Exception):
    pass


class Job:
    __slots__ = ("image", "self_ensemble", "tile", "future", "size")

    def __init__(self, image, self_ensemble=None, tile=None):
        self.image = image
        self.self_ensemble = self_ensemble
        self.tile = tile
        self.size = image.shape[1], image.shape[0]  # width, height
        self.future = concurrent.futures.Future()


class InferenceWorker:
    """``InferenceWorker(build_predictor, max_queue)``; ``start()`` loads in the thread,
    ``ready`` / ``load_error`` tell how that went, ``on_load_failed`` is called if it failed."""

    def __init__(self, build_predictor, max_queue, on_load_failed=None):
        if int(max_queue) < 1:
            raise ValueError(f"max_queue must be at least 1, got {max_queue}")
        self.max_queue = int(max_queue)
        self.predictor = None
        self.load_error = None
        self.ready = threading.Event()
        self.on_load_failed = on_load_failed
        self._build = build_predictor
        self._queue = collections.deque()
        self._cond = threading.Condition()
        self._admitted = 0
        self._stopping = False
        self._seconds_per_job = 1.0  # running estimate, for Retry-After
        self._thread = threading.Thread(target=self._run, name="ppir-inference", daemon=True)

    # ----- the HTTP side -------------------------------------------------------------------
    def start(self):
        self._thread.start()
        return self

    @property
    def queue_depth(self):
        """Jobs waiting for the worker (not counting the one it runs)."""
        return len(self._queue)

    @property
    def admitted(self):
        """Requests holding a slot: uploading, waiting or being restored."""
        return self._admitted

    def retry_after(self):
        """Seconds after which a slot is likely free again."""
        return max(1.0, self._seconds_per_job * max(1, self._admitted))

    def admit(self):
        """Take one of the ``max_queue`` slots for a request (``release`` gives it back), or
        raise QueueFull."""
        with self._cond:
            if self._admitted >= self.max_queue or self._stopping:
                raise QueueFull()
            self._admitted += 1

    def release(self):
        with self._cond:
            self._admitted -= 1

    def check_tile(self, tile):
        """Raise ``ConfigError`` (a ValueError) for a tile size the network cannot use."""
        predictor = self.predictor
        predictor._check_tiling(tile, predictor.tile_overlap)  # pure: reads only the network's size multiple

    def submit(self, job):
        with self._cond:
            self._queue.append(job)
            self._cond.notify()
        return job

    def cancel(self, job):
        """Take ``job`` off the queue if it has not started; True if it was."""
        with self._cond:
            if job in self._queue:
                self._queue.remove(job)
                job.future.cancel()
                return True
        return False

    def stop(self, timeout=None):
        """Finish the jobs already queued, then end the thread (one still loading the model is
        not waited for: it is a daemon thread and holds no request)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self.ready.is_set() and self._thread.is_alive():
            self._thread.join(timeout)

    # ----- the thread ----------------------------------------------------------------------
    def _run(self):
        try:
            self.predictor = self._build()
            self._warm_up()
        except BaseException as err:  # noqa: BLE001 - any failure to load is reported, not raised in a thread
            self.load_error = one_line(err)
            if self.on_load_failed is not None:
                self.on_load_failed()
            return
        self.ready.set()
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue:
                    return
                job = self._queue.popleft()
            if job.future.set_running_or_notify_cancel():
                self._run_job(job)
            job = None  # drop the image now, not when the next job arrives

    def _warm_up(self):
        """One small photo through the whole pipeline: first-call costs are paid before the
        service says it is ready, and a predictor that returns nonsense never becomes ready."""
        rng = np.random.default_rng(0)
        photo = rng.integers(0, 256, (WARMUP_SIDE, WARMUP_SIDE, 3), dtype=np.uint8)
        restored = self.predictor.restore(photo)
        scale = restored.shape[0] // WARMUP_SIDE
        if restored.dtype != np.uint8 or restored.shape != (WARMUP_SIDE * scale, WARMUP_SIDE * scale, 3):
            raise RuntimeError(f"warm-up returned {restored.dtype} {restored.shape} for a 64x64 RGB photo")

    def _run_job(self, job):
        predictor = self.predictor
        defaults = predictor.self_ensemble, predictor.tile
        start = time.perf_counter()
        try:
            if job.self_ensemble is not None:
                predictor.self_ensemble = job.self_ensemble
            if job.tile is not None:
                predictor.tile = predictor._check_tiling(job.tile, predictor.tile_overlap)[0]
            result = predictor.restore(job.image)
        except BaseException as err:  # noqa: BLE001 - the HTTP side decides what each error means
            # without its traceback: the frames would keep the failed pass's arrays alive
            job.future.set_exception(err.with_traceback(None))
            del err
            if is_out_of_memory(job.future.exception()):
                self._free_memory()
        else:
            job.future.set_result(result)
        finally:
            job.image = None
            predictor.self_ensemble, predictor.tile = defaults
            seconds = time.perf_counter() - start
            self._seconds_per_job = 0.8 * self._seconds_per_job + 0.2 * seconds

    def _free_memory(self):
        gc.collect()
        release = getattr(self.predictor.backend, "release_memory", None)
        if release is not None:  # ONNX Runtime's arena
            release()
        if is_gpu(self.predictor.device):
            import paddle

            paddle.device.cuda.empty_cache()
        _return_free_heap_to_os()
        log.warning("a request ran out of memory; its memory was released")


def _return_free_heap_to_os():
    """glibc keeps freed heap pages; after a failed pass they would stay in the process's
    resident memory. ``malloc_trim(0)`` gives them back (no-op where there is no glibc)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
