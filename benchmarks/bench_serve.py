"""Throughput and latency of the HTTP service next to the command line's speed, in one run.

    python benchmarks/bench_serve.py                                  # MPRNet-Deraining, 256x256, concurrency 1 2 4
    python benchmarks/bench_serve.py --arch MIRNetV2 --task real_denoising --size 256 --requests 16

The network has random weights of the released configuration (the speed does not depend on the
weights), saved to a temporary PPIR_HOME that also holds the backend's export, so nothing lands
in the user's cache. ``applications/tools/serve.py`` is started as a real server on a free port
(``--backend``, default auto); after one warm-up request, ``--requests`` requests of one
``size`` x ``size`` PNG photo are sent at each concurrency level by that many client threads,
each sending its next request when its previous one is answered. Reported: requests per second
(requests / wall time) and client-side latency percentiles. Then the server is stopped and the
command line (``applications/tools/restore.py``, same backend, the export reused) restores the
same number of copies of the photo: images per second from its own summary line (model loading
excluded, as the server's warm-up is). Benchmarks are not tests: the numbers depend on the
machine and its load.
"""
import argparse
import logging
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, q):
    """The q-th percentile (0-100), linear between the nearest ranks."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def photo_png(size):
    import cv2
    import numpy as np
    from skimage import data

    photo = cv2.resize(data.astronaut(), (size, size), interpolation=cv2.INTER_AREA)
    noisy = np.clip(photo + np.random.default_rng(0).normal(0, 20, photo.shape), 0, 255).astype(np.uint8)
    return cv2.imencode(".png", noisy[:, :, ::-1])[1].tobytes()


def random_weights(arch, task, path):
    import paddle

    from ppir.apps.network_loading import resolve
    from ppir.archs import build_arch

    paddle.seed(0)
    paddle.save(build_arch(resolve(arch, task)[0]).state_dict(), path)
    return path


def run_level(url, body, concurrency, total):
    """(requests per second, latencies) for ``total`` requests from ``concurrency`` threads."""
    import httpx

    latencies, statuses, lock = [], [], threading.Lock()
    counter = iter(range(total))

    def client():
        with httpx.Client(timeout=600) as session:
            while True:
                with lock:
                    if next(counter, None) is None:
                        return
                start = time.perf_counter()
                status = session.post(url, content=body).status_code
                with lock:
                    latencies.append(time.perf_counter() - start)
                    statuses.append(status)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    if set(statuses) != {200}:
        raise SystemExit(f"error: the server answered {sorted(set(statuses))} at concurrency {concurrency}")
    return total / wall, latencies


def start_server(args, weights, env, port):
    command = [sys.executable, os.path.join(ROOT, "applications", "tools", "serve.py"), "--arch", args.arch,
               "--task", args.task, "--weight_path", weights, "--backend", args.backend, "--port", str(port),
               "--max_queue", str(max(args.concurrency) * 2)]
    if args.device:
        command += ["--device", args.device]
    log = open(os.path.join(env["PPIR_HOME"], "server.log"), "w")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log


def wait_ready(proc, url, timeout=1800):
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"error: the server exited with status {proc.returncode}")
        try:
            if httpx.get(url + "/readyz", timeout=5).status_code == 200:
                return httpx.get(url + "/v1/models", timeout=5).json()["models"][0]
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit("error: the server did not become ready")


def cli_images_per_second(args, weights, env, body, count):
    photos = os.path.join(env["PPIR_HOME"], "photos")
    os.makedirs(photos, exist_ok=True)
    for i in range(count):
        with open(os.path.join(photos, f"photo{i:03d}.png"), "wb") as f:
            f.write(body)
    command = [sys.executable, os.path.join(ROOT, "applications", "tools", "restore.py"), "--arch", args.arch,
               "--task", args.task, "--weight_path", weights, "--backend", args.backend, "--input_image", photos,
               "--output_path", os.path.join(env["PPIR_HOME"], "cli_out")]
    if args.device:
        command += ["--device", args.device]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    found = re.search(r"restored (\d+) of \d+ image\(s\) in ([\d.]+) s", done.stdout)
    if done.returncode != 0 or not found:
        raise SystemExit(f"error: the command line failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return int(found.group(1)) / float(found.group(2)), done.stdout.splitlines()[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="MPRNet")
    parser.add_argument("--task", default="Deraining")
    parser.add_argument("--size", type=int, default=256, help="side of the square photo (default 256)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--requests", type=int, default=12, help="requests per concurrency level (default 12)")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    load_before = os.getloadavg()[0]
    home = tempfile.mkdtemp(prefix="ppir-bench-serve-")
    env = dict(os.environ, PPIR_HOME=home)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    try:
        weights = random_weights(args.arch, args.task, os.path.join(home, "random.pdparams"))
        body = photo_png(args.size)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server, log = start_server(args, weights, env, port)
        try:
            model = wait_ready(server, url)
            import httpx

            httpx.post(url + "/v1/restore", content=body, timeout=600)  # warm-up at this size
            rows = [(c, *run_level(url + "/v1/restore", body, c, args.requests)) for c in args.concurrency]
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=600)
            log.close()
        cli_rate, cli_line = cli_images_per_second(args, weights, env, body, args.requests)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    print(f"{args.arch} {args.task}, {args.size}x{args.size} PNG, backend {model['backend']} on {model['device']}, "
          f"{args.requests} requests per level, {os.cpu_count()} CPU cores, load average (1 min) "
          f"{load_before:.1f} before and {os.getloadavg()[0]:.1f} after")
    print()
    print("| client | concurrency | requests/s (images/s) | p50 s | p95 s | p99 s |")
    print("|---|---:|---:|---:|---:|---:|")
    for concurrency, rate, latencies in rows:
        print(f"| HTTP service | {concurrency} | {rate:.3f} | {statistics.median(latencies):.2f} | "
              f"{percentile(latencies, 95):.2f} | {percentile(latencies, 99):.2f} |")
    print(f"| command line (`restore.py`, a folder of {args.requests}) | - | {cli_rate:.3f} | | | |")
    print()
    print(f"command line: {cli_line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
