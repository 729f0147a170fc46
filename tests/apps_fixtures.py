"""Shared helpers for the apps/download tests (no tests here; the fixtures are in conftest.py): a
real HTTP server on 127.0.0.1, a briefly trained tiny MPRNet denoiser (``trained_denoiser_weights``),
tiny network configs, noise and PSNR.

``LocalFileServer`` serves byte strings registered per path and counts the requests it gets.
Modes per path: 'ok' (whole body), 'short' (announces the full Content-Length, sends half, closes:
an interrupted transfer), 'short-once' (short on the first request, whole afterwards).
Unknown paths answer 404. With ``gate`` set to a ``threading.Event``, every answer waits for it.
"""
import http.server
import os
import threading
from collections import Counter


class LocalFileServer:
    def __init__(self):
        self.files = {}
        self.requests = Counter()
        self.gate = None  # a threading.Event: when set here, answers wait for it (at most 25 s)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests[self.path] += 1
                if server.gate is not None:
                    server.gate.wait(25)
                if self.path not in server.files:
                    self.send_error(404, "Not Found")
                    return
                body, mode = server.files[self.path]
                short = mode == "short" or (mode == "short-once" and server.requests[self.path] == 1)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if short else body)
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):  # keep test output clean
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self):
        host, port = self._httpd.server_address
        return f"http://{host}:{port}"

    def add(self, path, body, mode="ok"):
        self.files[path] = (body, mode)
        return self.base_url + path

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


# ----- a briefly trained tiny MPRNet denoiser ---------------------------------------------------
TINY_DEFOCUS = {"name": "MIRNetV2", "task": "defocus_deblurring", "n_feat": 16, "n_MRB": 1}
TINY_MPRNET = {"name": "MPRNet", "n_feat": 8, "scale_unetfeats": 4, "scale_orsnetfeats": 4, "num_cab": 1}
NOISE_SIGMA = 0.1
_trained = {}


def trained_denoiser_weights():
    """Path of a tiny MPRNet (n_feat 8) trained for a few hundred steps to remove Gaussian noise
    (sigma 0.1) from 32x32 patches of skimage's astronaut; made once per test process.

    Why train: with random weights MPRNet is close to the identity (its output is the input plus
    a small residual), so tiled-vs-whole or backend comparisons would pass trivially. This net
    changes photos by several dB, like a real one.
    """
    if "path" not in _trained:
        import atexit
        import shutil
        import tempfile

        import numpy as np
        import paddle
        from skimage import data

        from ppir.archs import build_arch

        paddle.seed(0)
        rng = np.random.default_rng(0)
        net = build_arch(TINY_MPRNET)
        source = data.astronaut().astype(np.float32) / 255
        optimizer = paddle.optimizer.Adam(learning_rate=3e-3, parameters=net.parameters())
        for _ in range(240):
            corners = rng.integers(0, 512 - 32, (4, 2))
            clean = np.stack([source[y : y + 32, x : x + 32].transpose(2, 0, 1) for y, x in corners])
            noisy = clean + rng.normal(0, NOISE_SIGMA, clean.shape).astype(np.float32)
            target = paddle.to_tensor(clean)
            loss = sum((out - target).abs().mean() for out in net(paddle.to_tensor(noisy)))
            loss.backward()
            optimizer.step()
            optimizer.clear_grad()
        folder = tempfile.mkdtemp(prefix="ppir-apps-tests-")
        atexit.register(shutil.rmtree, folder, True)
        _trained["path"] = os.path.join(folder, "tiny_denoiser.pdparams")
        paddle.save(net.state_dict(), _trained["path"])
    return _trained["path"]


def add_noise(img, seed=1):
    import numpy as np

    noisy = img.astype(np.float32) / 255 + np.random.default_rng(seed).normal(0, NOISE_SIGMA, img.shape)
    return (np.clip(noisy, 0, 1) * 255).round().astype(np.uint8)


def psnr(a, b, peak=255.0):
    import numpy as np

    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return 10 * np.log10(peak**2 / mse)
