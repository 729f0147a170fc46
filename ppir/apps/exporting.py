"""Exporting a ppir network with its weights to a folder, for deployment outside ppir: a Paddle
static graph (``model.json`` + ``model.pdiparams``, runnable by Paddle Inference) and optionally
``model.onnx``, each checked against dygraph on a probe image. ``tools/export_model.py`` is the
command line for this."""
import os

from ..errors import ConfigError
from ..utils.places import check_writable_folder
from .backends.export import ExportCache
from .backends.selection import DEFAULT_TOLERANCE, Probe, build_backend
from .network_loading import load_network


def load_any_network(arch, task=None, weight_path=None):
    """(network, arch config) of any registered network: a released task (its weights downloaded
    once) or ``weight_path``, whose widths are read from the weights (so ``task`` is optional)."""
    net, arch_cfg, _, _ = load_network(arch, task, weight_path)
    return net, arch_cfg


def export_model(arch, output, task=None, weight_path=None, onnx=False):
    """Export to the folder ``output`` (new or empty); returns {backend: max abs difference from
    dygraph on the probe} for the backends that were checked."""
    output = os.fspath(output)
    check_writable_folder(output, "export folder")
    if os.path.isdir(output) and os.listdir(output):
        raise ConfigError(f"{output}: folder is not empty; export into a new or empty folder")
    net, arch_cfg = load_any_network(arch, task, weight_path)
    if os.path.isdir(output):
        os.rmdir(output)  # the export appears there atomically, by renaming a finished folder
    exports = ExportCache(net, arch_cfg, folder=output)
    probe = Probe(net, exports.in_channels)
    checked = {}
    for name in ("paddle-inference",) + (("onnxruntime",) if onnx else ()):
        backend = build_backend(name, net, exports, "cpu", probe=probe)
        checked[name] = probe.check(backend(probe.input), DEFAULT_TOLERANCE)
    return checked
