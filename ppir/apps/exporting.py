"""Exporting a ppir network with its weights to a folder, for deployment outside ppir: a Paddle
static graph (``model.json`` + ``model.pdiparams``, runnable by Paddle Inference) and optionally
``model.onnx``, each checked against dygraph on a probe image. ``tools/export_model.py`` is the
command line for this."""
import os

from ..archs import build_arch
from ..errors import ConfigError
from ..weights import load_weights, read_state_dict
from .backends.export import ExportCache
from .backends.selection import DEFAULT_TOLERANCE, Probe, build_backend
from .mirnetv2_predictor import MIRNetV2Predictor
from .mpr_predictor import MPRPredictor

FAMILIES = {"MPRNet": MPRPredictor, "MIRNetV2": MIRNetV2Predictor}


def load_any_network(arch, task=None, weight_path=None):
    """(network, arch config): a predictor family's task (released weights by default), or any
    registered architecture with ``weight_path`` (strictly loaded). A family's widths are read
    from the weights, so its ``task`` is optional when ``weight_path`` is given."""
    family = FAMILIES.get(arch)
    if family is not None and task is not None:
        net, arch_cfg, _ = family.load_network(task, weight_path)
        return net, arch_cfg
    if weight_path is None:
        if family is not None:
            raise ConfigError(f"--task or --weight_path is needed for {arch}: tasks {', '.join(family.tasks)}")
        raise ConfigError(f"--weight_path is needed for {arch}: ppir knows no released weights for it")
    state = read_state_dict(weight_path)
    widths = family.arch_from_weights(state) if family is not None else {}
    arch_cfg = {"name": arch, **({"task": task} if task else {}), **widths}
    net = build_arch(arch_cfg)
    load_weights(net, state, source=weight_path)
    net.eval()
    return net, arch_cfg


def export_model(arch, output, task=None, weight_path=None, onnx=False):
    """Export to the folder ``output`` (new or empty); returns {backend: max abs difference from
    dygraph on the probe} for the backends that were checked."""
    output = os.fspath(output)
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
