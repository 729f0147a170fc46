"""The HTTP service as a client sees it: ``applications/tools/serve.py`` started as a real
subprocess on 127.0.0.1 (free port, tiny random-weight MPRNet in a temporary file), spoken to with
httpx and raw sockets.

Three servers start together when the module starts (with the CLI run the answers are compared
with): ``main`` (dygraph, 2 slots, small byte and pixel limits) for correctness, errors,
concurrency, disconnects, the soak and running out of memory in Paddle; ``short`` (dygraph, a
0.3 s timeout) for 504; ``drained`` (ONNX Runtime, the default backend on CPU) for running out of
memory there and then SIGTERM. Out of memory is real: a limit on the running server's address
space (prlimit). Two more servers start inside their tests: one whose released weights come from
a local mirror that holds its answer (alive at once, ready only once loaded), and the bad starts
(exit 2, one line).
"""
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import cv2
import httpx
import numpy as np
import pytest
from skimage import data

from ppir.utils.image_io import decode_image, read_image, write_image
from serve_fixtures import ROOT, ServeProcess, rss_bytes, tiny_weights
from apps_fixtures import LocalFileServer, add_noise

MAX_PIXELS = 300_000
MAX_BYTES = 200_000
PHOTOS = ("chelsea.jpg", "gray.png", "deep16.png", "logo_rgba.png")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Photos of every kind the CLI handles: 8-bit JPEG, gray, 16-bit, RGBA."""
    root = tmp_path_factory.mktemp("serve_photos")
    write_image(root / "chelsea.jpg", add_noise(data.chelsea()))  # 451x300
    write_image(root / "gray.png", add_noise(data.camera()[100:164, 200:280])[:, :, None])
    noisy = data.coffee()[60:110, 200:260].astype(np.float32) / 255 + np.random.default_rng(3).normal(0, 0.1, (50, 60, 3))
    write_image(root / "deep16.png", np.round(np.clip(noisy, 0, 1) * 65535).astype(np.uint16))
    logo = add_noise(data.logo()[150:198, 200:256, :3])
    alpha = np.random.default_rng(4).integers(0, 256, (48, 56, 1), dtype=np.uint8)
    write_image(root / "logo_rgba.png", np.dstack([logo, alpha]))
    write_image(root / "small.png", add_noise(data.astronaut()[200:248, 200:248]))
    return root


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return tiny_weights(tmp_path_factory.mktemp("serve_weights") / "tiny.pdparams")


@pytest.fixture(scope="module")
def servers(module_home, weights, photos, tmp_path_factory):
    logs = str(tmp_path_factory.mktemp("serve_logs"))
    net = ("--task", "Deraining", "--weight_path", weights, "--device", "cpu")
    dygraph = ("--arch", "MPRNet", *net, "--backend", "dygraph")
    cli_out = tmp_path_factory.mktemp("cli_out")
    started = SimpleNamespace(
        main=ServeProcess(logs, *dygraph, "--max_queue", 2, "--max_bytes", MAX_BYTES, "--max_pixels", MAX_PIXELS,
                          "--timeout", 120),
        short=ServeProcess(logs, *dygraph, "--timeout", 0.3),
        drained=ServeProcess(logs, "--arch", "MPRNet", *net, "--backend", "onnxruntime", "--max_pixels", 10_000_000,
                             "--max_bytes", 50_000_000),
        cli=subprocess.Popen([sys.executable, os.path.join("applications", "tools", "mprnet.py"), "--input_image",
                              *(str(photos / name) for name in PHOTOS), *net, "--backend", "dygraph", "--output_path", str(cli_out)],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT),
        cli_out=cli_out / "Deraining",
    )
    # Exporting for ONNX Runtime runs child processes of the server; they are done once it is ready
    # (the tests check that none is left behind).
    started.drained.wait_ready()
    yield started
    started.cli.kill()
    for server in (started.main, started.short, started.drained):
        server.stop()


@pytest.fixture(scope="module")
def main(servers):
    return servers.main.wait_ready()


def restore(server, body, **params):
    return server.client.post("/v1/restore", content=body, params=params)


def assert_error(response, status, *words):
    """``status``, JSON ``{"error": one line}`` holding ``words``."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"] and "\n" not in body["error"] and "Traceback" not in body["error"], body
    for word in words:
        assert word in body["error"], body
    return body["error"]


def raw_request(port, head, body=b"", read=True, timeout=60):
    """Send ``head`` (the request line and headers, CRLF-separated) and ``body`` on a raw socket;
    return the status code and the body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body)
        if not read:
            return None
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
            if b"\r\n\r\n" in answer:
                header, _, rest = answer.partition(b"\r\n\r\n")
                length = [int(line.split(b":")[1]) for line in header.split(b"\r\n") if line.lower().startswith(b"content-length:")]
                if length and len(rest) >= length[0]:
                    break
    header, _, rest = answer.partition(b"\r\n\r\n")
    return int(header.split()[1]), rest


# ----- answers ---------------------------------------------------------------------------------
def test_answers_are_the_pixels_the_cli_writes(servers, main, photos):
    assert servers.cli.wait(timeout=300) == 0, servers.cli.stdout.read().decode()[-3000:]
    for name in PHOTOS:
        written = os.path.join(servers.cli_out, os.path.splitext(name)[0] + ".png")
        given, expected = read_image(photos / name), read_image(written)
        raw = restore(main, (photos / name).read_bytes())
        form = main.client.post("/v1/restore", files={"image": (name, (photos / name).read_bytes())})
        for response in (raw, form):
            assert response.status_code == 200, (name, response.text)
            assert response.headers["content-type"] == "image/png"
            got = decode_image(response.content)
            assert got.dtype == expected.dtype == given.dtype and got.shape == expected.shape == given.shape, name
            np.testing.assert_array_equal(got, expected, err_msg=name)
        assert raw.content == open(written, "rb").read(), name  # the same PNG file, byte for byte
        assert np.abs(expected.astype(int) - given).mean() > 0.5, name  # the network did change it


def test_self_ensemble_and_tile_are_the_predictors(main, photos, weights):
    from ppir.apps import MPRPredictor

    photo = read_image(photos / "small.png")
    ensemble = restore(main, (photos / "small.png").read_bytes(), self_ensemble="true")
    tiled = restore(main, (photos / "small.png").read_bytes(), tile=40)
    plain = restore(main, (photos / "small.png").read_bytes(), self_ensemble="false", tile=0)
    for response in (ensemble, tiled, plain):
        assert response.status_code == 200, response.text

    def predictor(**options):
        return MPRPredictor("Deraining", weight_path=weights, backend="dygraph", device="cpu", **options)

    np.testing.assert_array_equal(decode_image(ensemble.content), predictor(self_ensemble=True, tile=0).restore(photo))
    np.testing.assert_array_equal(decode_image(tiled.content), predictor(tile=40).restore(photo))
    np.testing.assert_array_equal(decode_image(plain.content), predictor(tile=0).restore(photo))
    assert not np.array_equal(ensemble.content, plain.content)


# ----- errors ----------------------------------------------------------------------------------
def png_bytes(img):
    return cv2.imencode(".png", img)[1].tobytes()


def test_every_bad_request_is_one_json_line_with_its_status(main, photos):
    good = (photos / "gray.png").read_bytes()
    assert_error(restore(main, b"shopping list: eggs, milk"), 400, "not an image")
    assert_error(restore(main, b""), 400, "empty body", "'image'")
    assert_error(restore(main, good[:300]), 400, "not an image, or a truncated")  # the header is there, the pixels not
    assert_error(restore(main, good, tile="big"), 400, "tile must be a whole number")
    assert_error(restore(main, good, tile=8), 400, "must be larger than tile_overlap")
    assert_error(restore(main, good, self_ensemble="maybe"), 400, "self_ensemble must be true or false")
    assert_error(restore(main, good, colour="red"), 400, "unknown query parameter 'colour'", "self_ensemble, tile")
    assert_error(main.client.post("/v1/restore", files={"photo": ("a.png", good)}), 400, "no file field 'image'")
    assert_error(main.client.post("/v1/restore", content=b"--x\r\nbroken",
                                  headers={"content-type": "multipart/form-data; boundary=x"}), 400)
    # 413 for pixels from the header: a 2000x1000 PNG of one colour is a few kB
    flat = png_bytes(np.full((1000, 2000, 3), 90, np.uint8))
    assert len(flat) < MAX_BYTES
    assert_error(restore(main, flat), 413, "2000x1000 = 2000000 pixels", str(MAX_PIXELS))
    assert_error(main.client.get("/nowhere"), 404)
    assert_error(main.client.get("/v1/restore"), 405)
    assert main.metric('ppir_serve_requests_total{status="500"}') == 0


def test_413_for_bytes_comes_from_the_header_before_the_body(main):
    # Only the headers are sent: the answer comes without a byte of the body.
    status, body = raw_request(main.port, f"POST /v1/restore HTTP/1.1\nHost: x\nContent-Length: {MAX_BYTES + 1}")
    assert status == 413 and f"limit of {MAX_BYTES} bytes" in json.loads(body)["error"]
    # Without Content-Length (chunked), the body is cut off once it passes the limit.
    chunk = os.urandom(64 * 1024)
    chunks = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(4)) + b"0\r\n\r\n"
    status, body = raw_request(main.port, "POST /v1/restore HTTP/1.1\nHost: x\nTransfer-Encoding: chunked", chunks)
    assert status == 413 and "over the limit" in json.loads(body)["error"]


# ----- load ------------------------------------------------------------------------------------
def test_more_requests_than_slots_get_200_or_503_and_none_is_lost(main, photos):
    body = (photos / "chelsea.jpg").read_bytes()
    before = {status: main.metric(f'ppir_serve_requests_total{{status="{status}"}}') for status in (200, 503)}
    responses = [None] * 8
    barrier = threading.Barrier(len(responses))

    def send(i):
        with httpx.Client(timeout=120) as client:
            barrier.wait()
            responses[i] = client.post(main.url + "/v1/restore", content=body)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(responses))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    statuses = [r.status_code for r in responses]
    assert set(statuses) == {200, 503}, statuses  # every request answered, some refused, none failed
    for response in responses:
        if response.status_code == 503:
            assert int(response.headers["retry-after"]) >= 1
            assert_error(response, 503, "request slots are taken")
    assert all(r.content == responses[statuses.index(200)].content for r in responses if r.status_code == 200)
    for status in (200, 503):
        assert main.metric(f'ppir_serve_requests_total{{status="{status}"}}') - before[status] == statuses.count(status)
    assert main.metric("ppir_serve_requests_in_flight") == 0 and main.metric("ppir_serve_queue_depth") == 0


def test_a_client_that_disconnects_frees_its_slot(main, photos):
    slow = threading.Thread(target=lambda: slow_result.append(
        restore(main, (photos / "chelsea.jpg").read_bytes(), self_ensemble="true")))
    slow_result = []
    slow.start()
    main.wait_metric("ppir_serve_requests_in_flight", lambda v: v == 1)
    main.wait_metric("ppir_serve_queue_depth", lambda v: v == 0)  # the worker is restoring it
    small = (photos / "gray.png").read_bytes()
    gone_before = main.metric('ppir_serve_requests_total{status="disconnected"}')
    sock = socket.create_connection(("127.0.0.1", main.port), timeout=30)
    sock.sendall(f"POST /v1/restore HTTP/1.1\r\nHost: x\r\nContent-Length: {len(small)}\r\n\r\n".encode() + small)
    main.wait_metric("ppir_serve_queue_depth", lambda v: v == 1)  # waiting behind the slow one: both slots taken
    assert_error(restore(main, small), 503)
    start = time.perf_counter()
    assert main.client.get("/healthz").status_code == 200  # the HTTP side answers while the worker computes
    assert time.perf_counter() - start < 5
    sock.close()
    main.wait_metric("ppir_serve_queue_depth", lambda v: v == 0)
    main.wait_metric("ppir_serve_requests_in_flight", lambda v: v == 1)
    assert slow.is_alive()  # the slot came back while the worker was still busy
    assert main.metric('ppir_serve_requests_total{status="disconnected"}') == gone_before + 1
    assert restore(main, small).status_code == 200  # admitted into the freed slot
    slow.join(300)
    assert slow_result[0].status_code == 200


def test_a_client_that_leaves_mid_upload_is_counted_and_frees_its_slot(main):
    gone = main.metric('ppir_serve_requests_total{status="disconnected"}')
    with socket.create_connection(("127.0.0.1", main.port), timeout=30) as sock:
        sock.sendall(b"POST /v1/restore HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + b"\x89PNG" * 10)
        main.wait_metric("ppir_serve_requests_in_flight", lambda v: v == 1)
    main.wait_metric('ppir_serve_requests_total{status="disconnected"}', lambda v: v == gone + 1)
    assert main.metric("ppir_serve_requests_in_flight") == 0
    assert main.metric('ppir_serve_requests_total{status="500"}') == 0


def test_soak_of_200_requests_keeps_the_server_memory_flat(main, photos):
    body = (photos / "small.png").read_bytes()
    statuses = []

    def send(count):
        with httpx.Client(base_url=main.url, timeout=120) as client:
            for _ in range(count):
                statuses.append(client.post("/v1/restore", content=body).status_code)

    send(20)  # warm: allocator arenas and caches reach their working size
    warm = rss_bytes(main.pid)
    threads = [threading.Thread(target=send, args=(90,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    end = rss_bytes(main.pid)
    print(f"soak: server RSS {warm / 2**20:.1f} MiB after 20 requests, {end / 2**20:.1f} MiB after 200")
    assert statuses == [200] * 200
    assert end - warm < 30 * 2**20, (warm, end)


# ----- the other endpoints ---------------------------------------------------------------------
def test_health_ready_models_metrics_and_the_page(main, photos):
    assert main.client.get("/healthz").json() == {"status": "alive"}
    assert main.client.get("/readyz").json() == {"status": "ready"}
    models = main.client.get("/v1/models").json()
    (model,) = models["models"]
    assert model["arch"] == "MPRNet" and model["task"] == "Deraining" and model["ready"] is True
    assert model["backend"] == "dygraph" and model["device"] == "cpu" and model["scale"] == 1
    assert models["limits"] == {"max_bytes": MAX_BYTES, "max_pixels": MAX_PIXELS, "max_queue": 2, "timeout": 120}
    images = main.metric("ppir_serve_images_restored_total")
    megapixels = main.metric("ppir_serve_megapixels_restored_total")
    latency = main.metric("ppir_serve_request_seconds_count")
    assert restore(main, (photos / "gray.png").read_bytes()).status_code == 200
    assert main.metric("ppir_serve_images_restored_total") == images + 1
    assert main.metric("ppir_serve_megapixels_restored_total") == pytest.approx(megapixels + 64 * 80 / 1e6)
    assert main.metric("ppir_serve_request_seconds_count") == latency + 1
    assert main.metric("ppir_serve_ready") == 1
    page = main.client.get("/")
    assert page.status_code == 200 and "Drop a photo" in page.text
    for asset in ("static/page.js", "static/page.css", "static/icon.svg"):
        assert asset in page.text and main.client.get("/" + asset).status_code == 200
    assert "http://" not in page.text and "https://" not in page.text  # no external assets


def test_504_past_the_timeout(servers, photos):
    short = servers.short.wait_ready()
    response = restore(short, (photos / "chelsea.jpg").read_bytes(), self_ensemble="true")
    assert_error(response, 504, "timeout of 0.3 s")
    assert short.client.get("/healthz").status_code == 200


def out_of_memory_then_next(server, side, margin, small):
    """A whole-image request of ``side`` x ``side`` under a real limit on the server's address
    space (``margin`` bytes over what it maps now): 503, and the next two requests are restored;
    returns the resident memory (before, after)."""
    assert restore(server, small).status_code == 200
    before = rss_bytes(server.pid)
    with open(f"/proc/{server.pid}/status") as f:
        virtual = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    resource.prlimit(server.pid, resource.RLIMIT_AS, (virtual + margin, resource.RLIM_INFINITY))
    try:
        ramp = np.broadcast_to(np.arange(side, dtype=np.uint8)[None, :, None] // 5, (side, side, 3))
        response = restore(server, png_bytes(np.ascontiguousarray(ramp)), tile=0)
        assert_error(response, 503, "out of memory", f"{side}x{side}", "tile")
        assert int(response.headers["retry-after"]) >= 1
        assert restore(server, small).status_code == 200  # the next request works
        assert restore(server, small).status_code == 200
    finally:
        resource.prlimit(server.pid, resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    return before, rss_bytes(server.pid)


def test_out_of_memory_in_paddle_is_503_and_the_next_request_works(main, photos):
    # dygraph; a whole pass at 540x540 needs several hundred MiB more than the tiny net has used
    before, after = out_of_memory_then_next(main, 540, 2**27, (photos / "gray.png").read_bytes())
    print(f"out of memory (dygraph): server RSS {before / 2**20:.0f} MiB before, {after / 2**20:.0f} MiB after")
    assert after - before < 200 * 2**20, (before, after)


def test_out_of_memory_in_onnxruntime_is_503_and_its_memory_is_given_back(servers, photos):
    server = servers.drained.wait_ready()
    assert server.client.get("/v1/models").json()["models"][0]["backend"] == "onnxruntime"
    before, after = out_of_memory_then_next(server, 1200, 2**29, (photos / "chelsea.jpg").read_bytes())
    print(f"out of memory (onnxruntime): server RSS {before / 2**20:.0f} MiB before, {after / 2**20:.0f} MiB after")
    assert after - before < 200 * 2**20, (before, after)


def test_sigterm_answers_what_is_in_flight_then_exits_0(servers, photos):
    server = servers.drained.wait_ready()
    body = png_bytes(cv2.resize(data.astronaut(), (640, 480), interpolation=cv2.INTER_AREA))
    results = []

    def send():  # with self_ensemble: seconds, even on ONNX Runtime
        try:
            results.append(server.client.post("/v1/restore", content=body, params={"self_ensemble": "true"},
                                              timeout=600))
        except httpx.HTTPError as err:
            results.append(err)

    in_flight = threading.Thread(target=send)
    in_flight.start()
    server.wait_metric("ppir_serve_requests_in_flight", lambda v: v == 1)
    server.wait_metric("ppir_serve_queue_depth", lambda v: v == 0)
    server.terminate()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # it stops accepting new connections
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            time.sleep(0.05)
        except OSError:
            break
    else:
        raise AssertionError("still accepting connections 30 s after SIGTERM")
    in_flight.join(600)
    assert results[0].status_code == 200, results
    assert decode_image(results[0].content).shape == (480, 640, 3)
    assert server.proc.wait(timeout=60) == 0, server.logs()[-3000:]


# ----- starting ----------------------------------------------------------------------------------
def test_alive_at_once_ready_only_once_the_model_is_loaded(weights, photos, tmp_path):
    small = (photos / "gray.png").read_bytes()
    with LocalFileServer() as mirror:  # it holds its answers until the gate opens
        mirror.gate = threading.Event()
        mirror.add("/models/MPR_Deraining.pdparams", open(weights, "rb").read())
        server = ServeProcess(str(tmp_path / "logs"), "--arch", "MPRNet", "--task", "deraining", "--backend", "dygraph",
                              "--device", "cpu", env={"PPIR_HOME": str(tmp_path / "home"),
                                                      "PPIR_WEIGHTS_MIRROR": mirror.base_url + "/models"})
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if server.client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            loading = server.client.get("/readyz")  # the released weights are still downloading
            assert_error(loading, 503, "the model is loading")
            assert int(loading.headers["retry-after"]) >= 1
            refused = restore(server, small)
            assert_error(refused, 503, "loading")
            assert int(refused.headers["retry-after"]) >= 1
            assert server.client.get("/v1/models").json()["models"][0]["ready"] is False
            assert server.metric("ppir_serve_ready") == 0
            mirror.gate.set()
            server.wait_ready()
            assert restore(server, small).status_code == 200
            model = server.client.get("/v1/models").json()["models"][0]
            assert model["task"] == "Deraining" and model["weights"].endswith("MPR_Deraining.pdparams")
        finally:
            mirror.gate.set()
            server.stop()


def test_bad_start_is_one_line_and_exit_2(weights, tmp_path):
    cut = tmp_path / "cut.pdparams"
    cut.write_bytes(open(weights, "rb").read()[:20000])
    runs = {
        "task": ServeProcess(str(tmp_path), "--arch", "MPRNet", "--task", "Sharpening"),
        "weights": ServeProcess(str(tmp_path), "--arch", "MPRNet", "--task", "Deraining", "--weight_path", cut,
                                "--backend", "dygraph"),
        "arch": ServeProcess(str(tmp_path), "--arch", "UNet", "--task", "Deraining"),
    }
    try:
        for name, words in (("task", ["'Sharpening'", "Deblurring, Denoising, Deraining"]),
                            ("weights", ["cut.pdparams", "truncated"]), ("arch", ["'UNet'", "Registered: MIRNet, MIRNetV2, MPRNet"])):
            run = runs[name]
            assert run.proc.wait(timeout=120) == 2, run.logs()
            with open(run.err_path) as f:
                errors = [line for line in f.read().splitlines() if line.startswith("error: ")]
            assert len(errors) == 1 and "Traceback" not in run.logs(), run.logs()
            for word in words:
                assert word in errors[0], errors
    finally:
        for run in runs.values():
            run.stop()
