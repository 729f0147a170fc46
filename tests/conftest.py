"""Fixtures shared by several test modules (pytest loads this file itself; test modules never
import each other: shared helpers that are not fixtures live in apps_fixtures.py,
engine_support.py, data_support.py and serve_fixtures.py)."""
import ctypes
import ctypes.util
import os
import shutil
import signal
import time

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def browser(tmp_path):
    """A real headless Chromium (Debian's, installed by .ci/run) driven through its own
    chromedriver. ``browser.console_errors()`` returns the page's console errors so far."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("Debian's chromium and chromium-driver are needed (bash .ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # No network here: these flags keep Chromium from dialling out (its refused connections and
    # failed look-ups would otherwise be logged and slow every start).
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium-profile'}",
                 "--window-size=1200,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)

    def console_errors():
        return [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]

    driver.console_errors = console_errors
    try:
        yield driver
    finally:
        driver.quit()


# --- no test leaves a process behind -----------------------------------------------------------
# The test process is made a "child subreaper" (Linux): a process orphaned by one of its children
# (a DataLoader worker of a killed training run, say) is re-parented to it instead of to init, so
# it can be seen here. At the end of every test module, processes below this one that were not
# there before it are a leak: they are killed and the module fails, naming them and their test.
PR_SET_CHILD_SUBREAPER = 36
LEAK_GRACE_SECONDS = 5.0


def _become_subreaper():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _process_table():
    """{pid: (parent pid, state)} from /proc (empty where there is no /proc)."""
    table = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        table[int(entry)] = (int(fields[1]), fields[0].decode())
    return table


def _descendants():
    """Live (non-zombie) processes below this one; zombies among its own children are reaped."""
    me, table = os.getpid(), _process_table()
    children = {}
    for pid, (parent, state) in table.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), list(children.get(me, []))
    while todo:
        pid = todo.pop()
        if table[pid][1] == "Z":
            if table[pid][0] == me:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
            continue
        found.add(pid)
        todo += children.get(pid, [])
    return found


def _describe(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            command = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        command = "?"
    return f"{pid} ({command[:120]})"


def pytest_configure(config):
    _become_subreaper()


@pytest.fixture(scope="module", autouse=True)
def no_leaked_processes(request):
    """Fails a test module that leaves a process running (after a grace period for exits under
    way). Module-wide, not per test: some modules start long runs in module fixtures, shared by
    several tests and stopped at the module's end."""
    before = _descendants()
    appeared = {}  # pid -> the test during which it was first seen
    yield appeared
    deadline = time.time() + LEAK_GRACE_SECONDS
    leaked = _descendants() - before
    while leaked and time.time() < deadline:
        time.sleep(0.1)
        leaked = _descendants() - before
    if leaked:
        described = [f"{_describe(pid)} from {appeared.get(pid, 'a module fixture')}" for pid in sorted(leaked)]
        for pid in leaked:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        pytest.fail(f"{request.module.__name__} left {len(leaked)} process(es) running: {'; '.join(described)}")


@pytest.fixture(autouse=True)
def _note_new_processes(request, no_leaked_processes):
    """Remembers which test a process appeared in, for the module's leak report."""
    before = _descendants()
    yield
    for pid in _descendants() - before:
        no_leaked_processes.setdefault(pid, request.node.name)


@pytest.fixture(scope="module")
def module_home(tmp_path_factory):
    """A fresh PPIR_HOME for the module (and every tool it starts); no mirror, no debug."""
    folder = tmp_path_factory.mktemp("ppir_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PPIR_HOME", str(folder))
        mp.delenv("PPIR_WEIGHTS_MIRROR", raising=False)
        mp.delenv("PPIR_DEBUG", raising=False)
        yield folder
