"""Helpers for the service tests (no tests here): the real server started as a subprocess on
127.0.0.1 with a free port (``ServeProcess``), a tiny random-weight MPRNet saved to a file, and
reading a process's resident memory."""
import os
import signal
import socket
import subprocess
import sys
import time

import httpx

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
SERVE = os.path.join(ROOT, "applications", "tools", "serve.py")
START_TIMEOUT = 240  # seconds: several servers may start at once on 2 shared cores


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tiny_weights(path, seed=5):
    """A tiny MPRNet (n_feat 8) with random weights saved at ``path``; returns the path."""
    import paddle

    from ppir.archs import build_arch
    from apps_fixtures import TINY_MPRNET
    paddle.seed(seed)
    paddle.save(build_arch(TINY_MPRNET).state_dict(), str(path))
    return str(path)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class ServeProcess:
    """``python applications/tools/serve.py ARGS --port P`` started now; output goes to files in
    ``logs``. ``wait_ready()`` polls /readyz; ``stop()`` kills it if it still runs."""

    def __init__(self, logs, *args, env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        os.makedirs(logs, exist_ok=True)
        self.out_path, self.err_path = os.path.join(logs, f"{self.port}.out"), os.path.join(logs, f"{self.port}.err")
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, TESTS, os.environ.get("PYTHONPATH")) if p)
        environment.update(env or {})
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen([sys.executable, SERVE, *map(str, args), "--port", str(self.port)],
                                         cwd=ROOT, env=environment, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        self.client = httpx.Client(base_url=self.url, timeout=120)

    @property
    def pid(self):
        return self.proc.pid

    def logs(self):
        with open(self.out_path) as out, open(self.err_path) as err:
            return out.read() + err.read()

    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.logs()[-3000:]}")
            try:
                if self.client.get("/readyz", timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"server not ready after {timeout} s:\n{self.logs()[-3000:]}")

    def metric(self, name):
        """The value of an unlabelled (or the first labelled) sample ``name`` in /metrics."""
        for line in self.client.get("/metrics").text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def wait_metric(self, name, condition, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.metric(name)
            if condition(value):
                return value
            time.sleep(0.05)
        raise AssertionError(f"{name} stayed at {self.metric(name)}")

    def terminate(self):
        self.proc.send_signal(signal.SIGTERM)

    def stop(self):
        self.client.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
