"""Running the service: ``serve(...)`` binds the port, starts uvicorn at once (``/healthz``
answers while the model loads) and the inference worker beside it, and returns the exit status:

* 0 after SIGTERM or SIGINT: uvicorn stops accepting, the requests in flight (queued ones too)
  are answered, then the worker ends;
* 2 with one line ``error: ...`` when the arch, task, device, limits or port are wrong, or the
  model fails to load (the server then stops by itself).
"""
import signal
import socket
import sys

from ..apps import Predictor
from ..apps.network_loading import resolve
from ..errors import ConfigError, PpirError
from ..utils.device import select_device
from .app import create_app
from .limits import Limits
from .worker import InferenceWorker


def check_model(arch, task):
    """The arch and task checked before anything loads (ConfigError naming the choices); one
    image per request, so two-view models are refused."""
    base, release = resolve(arch, task)
    if release is not None and release.views != 1:
        raise ConfigError(f"{release.task} takes {release.views} views per photo; the service restores one "
                          f"image per request")
    return base["name"], release.task if release is not None else task


def describe(arch, task, worker, weight_path):
    """What ``/v1/models`` says about the served model."""
    info = {"arch": arch, "task": task, "ready": worker.ready.is_set(), "weights": weight_path or "released"}
    predictor = worker.predictor
    if predictor is not None and worker.ready.is_set():
        info.update(weights=predictor.weights_source, backend=predictor.backend.name,
                    backend_description=getattr(predictor.backend, "description", predictor.backend.name),
                    device=predictor.device, scale=predictor.scale * (predictor.upscale or 1),
                    size_multiple=predictor.size_multiple)
    if worker.load_error:
        info["error"] = worker.load_error
    return info


def serve(arch, task, weight_path=None, host="127.0.0.1", port=8866, backend="auto", device=None,
          limits=None, log_level="info"):
    """Serve until SIGTERM/SIGINT; returns the exit status."""
    import uvicorn

    limits = limits or Limits()
    try:
        arch, task = check_model(arch, task)
        device = select_device(device)
        sock = _bind(host, port)
    except PpirError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    server = None

    def load_failed():
        if server is not None:
            server.should_exit = True

    worker = InferenceWorker(
        lambda: Predictor(arch, task, weight_path=weight_path, device=device, backend=backend),
        limits.max_queue, on_load_failed=load_failed)
    app = create_app(worker, limits, lambda: describe(arch, task, worker, weight_path))
    config = uvicorn.Config(app, log_level=log_level, lifespan="on", timeout_keep_alive=5)
    server = uvicorn.Server(config)
    print(f"serving {arch} {task or ''} on http://{host}:{sock.getsockname()[1]} "
          f"(ready once /readyz answers 200)", flush=True)
    worker.start()
    # uvicorn re-raises the signal it stopped for once it is done; with these handlers in place
    # that is a no-op, so a drained server exits 0 instead of dying of its own SIGTERM (or
    # printing a KeyboardInterrupt traceback after Ctrl-C).
    previous = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if worker.load_error:
        print(f"error: {worker.load_error}", file=sys.stderr)
        return 2
    return 0


def _ignore(signum, frame):
    pass


def _bind(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise PpirError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    sock.set_inheritable(True)
    return sock
