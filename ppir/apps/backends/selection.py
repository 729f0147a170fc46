"""Choosing a backend, and never trusting one that has not shown it agrees with dygraph.

``backend='auto'`` tries the backends from fastest to slowest as measured on this kind of device
(``benchmarks/bench_predictor.py``: on CPU ONNX Runtime, then Paddle Inference with oneDNN, then
dygraph; on GPU Paddle Inference first) and takes the first that is installed, builds, and passes
the agreement check: a small probe image runs through it and through dygraph, and the largest
difference must stay within ``DEFAULT_TOLERANCE`` (``FP16_TOLERANCE`` for FP16 on a GPU). A backend
that fails is skipped with one log line saying why; a backend asked for by name that fails is an
error (never a silent switch).
"""
import logging
import os
import tempfile

import numpy as np

from ...archs.contract import contract_of
from ...errors import PpirError, one_line  # noqa: F401 (one_line: re-exported)
from ...utils.device import is_gpu
from ..finite import NonFiniteOutput, check_finite
from .dygraph import DygraphBackend
from .opening import EXPORTED_BACKENDS, open_exported
from .paddle_inference import FP16_TOLERANCE
from .worker import run_worker

log = logging.getLogger("ppir.apps")

DEFAULT_TOLERANCE = 1e-4
BACKENDS = ("dygraph",) + EXPORTED_BACKENDS
AUTO_ORDER = {
    "cpu": ("onnxruntime", "paddle-inference", "dygraph"),
    "gpu": ("paddle-inference", "onnxruntime", "dygraph"),
}
_already_said = set()


class BackendUnavailable(Exception):
    """The backend's package is not installed (not an error of the backend itself)."""


def say_once(level, message):
    if message not in _already_said:
        _already_said.add(message)
        log.log(level, message)


class Probe:
    """A small deterministic test image (smooth gradients plus noise, non-square, in [0, 1]) and
    dygraph's output on it, computed once, against which other backends are checked."""

    def __init__(self, net, in_channels):
        multiple = contract_of(net).size_multiple
        height, width = 5 * multiple, 6 * multiple
        rng = np.random.default_rng(20240521)
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        base = 0.5 + 0.3 * np.sin(yy / 3.0 + np.arange(in_channels)[:, None, None]) * np.cos(xx / 5.0)
        noisy = base + 0.1 * rng.standard_normal((in_channels, height, width))
        self.input = np.clip(noisy, 0, 1).astype(np.float32)[None]
        self.net = net
        self._expected = None

    @property
    def expected(self):
        if self._expected is None:  # a non-finite reference must stop 'auto', not disqualify the others
            self._expected = check_finite(DygraphBackend(self.net)(self.input), "the network (dygraph) on a test image",
                                          "no backend can restore with these weights")
        return self._expected

    def check(self, out, tolerance):
        """Raise unless ``out`` (this probe through some backend) matches dygraph's output."""
        out = np.asarray(out)
        if out.shape != self.expected.shape or not np.all(np.isfinite(out)):
            raise PpirError(f"its output has shape {out.shape} or non-finite values")
        diff = float(np.max(np.abs(out - self.expected)))
        if diff > tolerance:
            raise PpirError(f"its output differs from dygraph by {diff:.3g} (> {tolerance:g})")
        return diff


def build_backend(name, net, exports, device, fp16=False, tensorrt=False, probe=None):
    """Construct backend ``name`` and check it against dygraph on ``probe``. ``exports`` is the
    network's ``ExportCache``. An exported backend first proves, once per exported model and
    device, in a child process, that it runs and agrees (a native crash only fails that check)."""
    _check_name(name)
    if name == "dygraph":
        return DygraphBackend(net)
    if (fp16 or tensorrt) and name != "paddle-inference":
        raise PpirError("fp16 and tensorrt are options of the paddle-inference backend")
    if name == "onnxruntime":
        _require("onnxruntime", "pip install onnxruntime")
        try:
            exports.onnx_model()
        except ImportError:
            raise BackendUnavailable("paddle2onnx is not installed (pip install paddle2onnx)") from None
    else:
        exports.static_model()
    probe = probe or Probe(net, exports.in_channels)
    tolerance = FP16_TOLERANCE if fp16 else DEFAULT_TOLERANCE
    _check_in_child(name, exports, device, fp16, tensorrt, probe, tolerance)
    backend = open_exported(name, exports.folder, device, fp16, tensorrt)
    probe.check(backend(probe.input), tolerance)
    return backend


def _check_in_child(name, exports, device, fp16, tensorrt, probe, tolerance):
    marker = os.path.join(exports.folder, f"checked-{name}-{device}-fp16={fp16}-trt={tensorrt}")
    if os.path.exists(marker):
        return
    with tempfile.TemporaryDirectory() as scratch:
        probe_path, out_path = os.path.join(scratch, "probe.npy"), os.path.join(scratch, "out.npy")
        np.save(probe_path, probe.input)
        run_worker("probe", name, exports.folder, device, fp16, tensorrt, probe_path, out_path)
        diff = probe.check(np.load(out_path), tolerance)
    with open(marker, "w") as f:
        f.write(f"max abs difference from dygraph on the probe: {diff:.3g}\n")


def _check_name(name):
    if name not in BACKENDS:
        raise PpirError(f"unknown backend {name!r}; choose 'auto' or one of {', '.join(BACKENDS)}")


def _require(module, hint):
    try:
        __import__(module)
    except ImportError:
        raise BackendUnavailable(f"{module} is not installed ({hint})") from None


def select_backend(requested, net, exports, device, fp16=False, tensorrt=False):
    """The backend to run: ``requested`` ('auto' or a name in ``BACKENDS``), verified."""
    if requested != "auto":
        _check_name(requested)
    if requested == "dygraph":
        return DygraphBackend(net)
    candidates = AUTO_ORDER["gpu" if is_gpu(device) else "cpu"] if requested == "auto" else (requested,)
    probe = Probe(net, exports.in_channels)
    if requested == "auto":
        probe.expected  # noqa: B018 - NonFiniteOutput now if dygraph gives NaN/Inf: no backend would do
    for name in candidates:
        try:
            return build_backend(name, net, exports, device, fp16, tensorrt, probe)
        except NonFiniteOutput:  # dygraph itself: any backend that agreed with it would too
            raise
        except BackendUnavailable as err:
            reason, level = str(err), logging.INFO
        except Exception as err:  # any failure of an optional fast path means: do not use it
            reason, level = one_line(err), logging.WARNING
        if requested != "auto":
            raise PpirError(f"backend {name!r} cannot be used: {reason}")
        say_once(level, f"backend {name} not used: {reason}; trying the next one")
    return DygraphBackend(net)
