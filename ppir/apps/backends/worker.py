"""Risky first steps run in a child process, so a crash in native code cannot take the caller down.

paddle2onnx aborts the process on graphs it cannot convert, and a native kernel can crash on an
op it does not support (oneDNN did on ``bilinear_interp``). Converting to ONNX, and the first run
of each exported model on each device, therefore happen in a child process running
``child.main`` (its own module, so this one imports nothing of the backends):

    main(["convert-onnx", MODEL, PARAMS, OUT.onnx])
    main(["probe", BACKEND, FOLDER, DEVICE, FP16, TENSORRT, IN.npy, OUT.npy])

``run_worker`` starts it with the same interpreter and a ``PYTHONPATH`` that finds this ppir,
and turns a non-zero exit or a signal into a one-line ``WorkerFailed``.
"""
import os
import subprocess
import sys

import ppir

from ...errors import PpirError

TIMEOUT_SECONDS = 1800
WHAT = {"convert-onnx": "ONNX conversion", "probe": "trial run"}


class WorkerFailed(PpirError):
    """A child-process step failed or crashed (its message says which and how)."""


def run_worker(*args):
    root = os.path.dirname(os.path.dirname(os.path.abspath(ppir.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    if ppir.REQUESTED_OMP_THREADS is None:  # Paddle's own OMP_NUM_THREADS=1, not the user's
        env.pop("OMP_NUM_THREADS", None)
    # -c rather than -m: this module is already imported by its package, which -m warns about
    command = [sys.executable, "-c", "import sys; from ppir.apps.backends.child import main; main(sys.argv[1:])",
               *map(str, args)]
    try:
        done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise WorkerFailed(f"{WHAT[args[0]]} took longer than {TIMEOUT_SECONDS} s") from None
    if done.returncode:
        how = f"crashed with signal {-done.returncode}" if done.returncode < 0 else f"failed (exit {done.returncode})"
        raise WorkerFailed(f"{WHAT[args[0]]} in a child process {how}: {_last_error_line(done.stderr)}")


def _last_error_line(stderr):
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    for marker in ("Error", "error", "ERROR"):
        found = [line for line in lines if marker in line]
        if found:
            return found[-1][:300]
    return lines[-1][:300] if lines else "no message"
