"""CPU runtime settings (ppir/utils/cpu.py): how many threads Paddle's CPU kernels get, and that
freed memory is kept for reuse. Each case runs in a fresh interpreter, because what matters is
the environment before Paddle is imported (importing Paddle sets OMP_NUM_THREADS=1 if unset)."""
import os
import subprocess
import sys

import pytest

from ppir.utils.cpu import available_cores

PROBE = (
    "import ppir, paddle\n"
    "from ppir.utils import cpu\n"
    "from ppir.utils.device import select_device\n"
    "select_device('cpu')\n"
    "print(cpu.math_threads(), cpu.keep_freed_memory())\n"
)


def probe(env_changes, import_paddle_first=False):
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "PADDLE_LOCAL_SIZE")}
    env.update(env_changes)
    code = ("import paddle\n" if import_paddle_first else "") + PROBE
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    threads, kept = done.stdout.split()
    return int(threads), kept == "True"


@pytest.mark.parametrize("env, expected", [
    ({}, available_cores()),
    ({"OMP_NUM_THREADS": "1"}, 1),
    ({"OMP_NUM_THREADS": "3"}, 3),
    ({"PADDLE_LOCAL_SIZE": "2"}, max(1, available_cores() // 2)),  # launcher without OMP_NUM_THREADS
])
def test_threads_follow_the_environment_before_paddle(env, expected):
    threads, kept = probe(env)
    assert threads == expected
    assert kept  # glibc here: mallopt accepted both thresholds


def test_paddle_imported_first_still_gets_every_core():
    """Paddle then already set OMP_NUM_THREADS=1 itself: that is not the user's choice."""
    assert probe({}, import_paddle_first=True)[0] == available_cores()
