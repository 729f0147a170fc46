"""Exporting a network for the fast backends, once: a Paddle static graph (``paddle.jit.save``)
and, from it, an ONNX model (``paddle2onnx``), cached on disk.

Export uses the export-friendly resampling of ``ppir.archs.resample`` (bilinear x2 as replicate
pad + fixed depthwise transposed conv), which oneDNN runs and paddle2onnx converts, and equal
splits written as slices (``equal_splits_as_slices``); the maths is the same, so exported models
agree with the eager network to float rounding.

The cache lives in ``<PPIR_HOME>/exported/<arch>-<task>-<key>/`` where the key hashes the arch
config, the parameter values, the Paddle version and ``EXPORT_FORMAT``: new weights or a new
Paddle give a new folder, so a stale export is never used. Folders appear atomically (exported in
a temporary folder, then renamed), so an interrupted export leaves nothing half-written behind.
The ONNX conversion runs in a child process (``worker.py``): paddle2onnx aborts on graphs it
cannot convert, and that must not kill the caller.
"""
import contextlib
import hashlib
import json
import os
import shutil
import tempfile

import paddle
from paddle import nn

from ...archs import resample
from ...archs.contract import contract_of
from ...utils.download import cache_dir
from ...weights.digest import weights_digest
from .dygraph import final_output
from .worker import run_worker

# Bump when the exported graph changes for the same network and weights (e.g. a new input spec).
EXPORT_FORMAT = 2  # 2: activations rewritten for fusion (onnx_rewrite.py)
ONNX_OPSET = 13
MODEL_STEM = "model"


class FinalOutput(nn.Layer):
    """The network with only its final image as output (what the predictors use)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return final_output(self.net(x))


@contextlib.contextmanager
def equal_splits_as_slices():
    """While tracing: ``paddle.split(x, n, axis)`` into n equal parts becomes n slices.

    paddle2onnx cannot convert a split along a dimension that is dynamic in the exported graph
    (H and W are, so that one export serves every image size), and aborts; slices of
    ``shape[axis] // n`` compute the same thing and convert. Splits into explicit sections are
    left alone.
    """
    original = paddle.split

    def split(x, num_or_sections, axis=0, name=None):
        if not isinstance(num_or_sections, int):
            return original(x, num_or_sections, axis=axis, name=name)
        axis = axis % len(x.shape)
        size = paddle.shape(x)[axis] // num_or_sections
        return [paddle.slice(x, [axis], [size * i], [size * (i + 1)]) for i in range(num_or_sections)]

    paddle.split = split
    try:
        yield
    finally:
        paddle.split = original


def export_static(net, prefix):
    """``paddle.jit.save`` the network (final output only) with a dynamic N, H and W; returns the
    (model file, params file) written next to ``prefix``."""
    was_training = net.training
    net.eval()
    spec = [paddle.static.InputSpec([None, contract_of(net).in_channels, None, None], "float32", "x")]
    try:
        with resample.export_friendly(), equal_splits_as_slices():
            static = paddle.jit.to_static(FinalOutput(net), input_spec=spec, full_graph=True)
            paddle.jit.save(static, prefix)
    finally:
        net.train(was_training)
    return static_files(prefix)


def static_files(prefix):
    """The (model, params) files of a saved static graph: PIR ``.json`` or legacy ``.pdmodel``."""
    for suffix in (".json", ".pdmodel"):
        if os.path.isfile(prefix + suffix):
            return prefix + suffix, prefix + ".pdiparams"
    raise FileNotFoundError(f"no exported model at {prefix}(.json|.pdmodel)")


def export_onnx(model_file, params_file, onnx_path, opset=ONNX_OPSET):
    """Convert a saved static graph to ONNX (needs ``paddle2onnx``); written atomically.
    paddle2onnx aborts the process on graphs it cannot convert: callers that must survive that
    use ``ExportCache.onnx_model``, which runs this in a child process."""
    import onnx
    import paddle2onnx

    from .onnx_rewrite import fuse_leaky_activations

    tmp = f"{onnx_path}.{os.getpid()}.tmp"
    try:
        paddle2onnx.export(model_file, params_file, tmp, opset_version=int(opset), enable_onnx_checker=True)
        model = onnx.load(tmp)
        fuse_leaky_activations(model)
        onnx.checker.check_model(model)
        onnx.save(model, tmp)
        os.replace(tmp, onnx_path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return onnx_path


class ExportCache:
    """The exported forms of one network with its current weights, made on first request, in
    ``folder`` (default: a folder named after the network's identity under ``root``, itself by
    default ``<PPIR_HOME>/exported``). Cheap to create: the identity (which hashes every weight)
    is computed only when an exported backend asks for the folder."""

    def __init__(self, net, arch_cfg, root=None, folder=None):
        self.net = net
        self.in_channels = contract_of(net).in_channels
        self.arch_cfg = dict(arch_cfg)
        self._root = root
        self._folder = folder
        self._identity = None

    @property
    def identity(self):
        if self._identity is None:
            self._identity = {
                "arch": self.arch_cfg,
                "in_channels": self.in_channels,
                "weights": weights_digest(self.net),
                "paddle": paddle.__version__,
                "format": EXPORT_FORMAT,
            }
        return self._identity

    @property
    def folder(self):
        """Where the exports go; the cache is only looked at (and made) when an export is needed,
        so an unusable PPIR_HOME does not stop what needs no export (dygraph)."""
        if self._folder is None:
            key = hashlib.sha256(json.dumps(self.identity, sort_keys=True, default=str).encode()).hexdigest()
            name = "-".join(str(p) for p in (self.arch_cfg.get("name", "net"), self.arch_cfg.get("task") or "custom"))
            self._folder = os.path.join(self._root or cache_dir("exported"), f"{name}-{key[:16]}")
        return self._folder

    def static_model(self):
        """(model file, params file), exporting first if this network is not in the cache yet."""
        prefix = os.path.join(self.folder, MODEL_STEM)
        if not os.path.isdir(self.folder):
            parent = os.path.dirname(os.path.abspath(self.folder))
            os.makedirs(parent, exist_ok=True)
            staging = tempfile.mkdtemp(dir=parent, prefix=".export-")
            try:
                export_static(self.net, os.path.join(staging, MODEL_STEM))
                with open(os.path.join(staging, "meta.json"), "w") as f:
                    json.dump(self.identity, f, indent=1, sort_keys=True, default=str)
                try:
                    os.rename(staging, self.folder)
                except OSError:  # another process finished the same export first: use theirs
                    if not os.path.isdir(self.folder):
                        raise
            finally:
                if os.path.isdir(staging):
                    shutil.rmtree(staging)
        return static_files(prefix)

    def onnx_model(self):
        """Path of the ONNX model, converting the static graph first if needed."""
        path = onnx_file(self.folder)
        if not os.path.isfile(path):
            model_file, params_file = self.static_model()
            _require("paddle2onnx")
            run_worker("convert-onnx", model_file, params_file, path)
        return path


def _require(module):
    """ImportError now, rather than a failure inside a child process."""
    __import__(module)


def onnx_file(folder):
    return os.path.join(folder, MODEL_STEM + ".onnx")


def read_meta(folder):
    with open(os.path.join(folder, "meta.json")) as f:
        return json.load(f)
