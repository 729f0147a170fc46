"""Helpers for the tests that run the apps' command lines as real subprocesses, several at once,
plain or under ``paddle.distributed.launch`` (no tests here)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MPRNET = os.path.join(ROOT, "applications", "tools", "mprnet.py")
LAUNCH = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2"]


def environment():
    """This environment without a launcher's or a GPU selection, with this checkout importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PADDLE_", "CUDA_VISIBLE", "FLAGS_selected"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    return env


def start(command, log):
    """A real subprocess started now, stdout and stderr to the file ``log``."""
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=environment(), stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    proc.log = log
    return proc


def finish(proc, timeout=300):
    """(exit status, output) once ``proc`` has ended; killed after ``timeout`` seconds."""
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    with open(proc.log, errors="replace") as f:
        return code, f.read()


def tiny_mprnet_weights(folder, seed):
    """A weights file of a tiny MPRNet (``TINY_MPRNET``) with random weights from ``seed``."""
    import paddle

    from ppir.archs import build_arch
    from apps_fixtures import TINY_MPRNET

    paddle.seed(seed)
    path = os.path.join(str(folder), "tiny.pdparams")
    paddle.save(build_arch(TINY_MPRNET).state_dict(), path)
    return path
