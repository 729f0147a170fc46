"""Peak memory of one forward pass per input pixel, measured on the network actually built.

Why measured and not a constant per family: an 8-channel quick-start MPRNet needs a tenth of the
memory of the released 80-channel one, and treating it as the large one tiles photos that fit
whole (slower, for nothing). The measurement runs the eager network (no gradients) on two small
inputs of the network's size multiple, reads Paddle's allocator peak (host allocator on the CPU,
the GPU allocator on a GPU) for each, and takes the slope: bytes per extra input pixel. Fixed
costs (the weights) drop out. It takes a fraction of a second for the full-size networks and is
kept per architecture config in ``<PPIR_HOME>/memory/`` (memory does not depend on the weights'
values), so it runs once per network and machine.

The exported backends (Paddle Inference, ONNX Runtime) were measured with
``benchmarks/measure_memory.py`` to peak at about the same per pixel as eager mode, so the one
figure serves every backend.
"""
import hashlib
import json
import logging
import os

import numpy as np
import paddle

from ..errors import PlaceError
from ..utils.atomic import write_text_atomic
from ..utils.device import is_gpu
from ..utils.download import cache_dir
from ..utils.padding import padded_size

log = logging.getLogger("ppir.apps")

MEASURE_SIDE = 32  # pixels; the second input has twice the side
FALLBACK_BYTES_PER_PIXEL = 10000  # when the allocator cannot be read (not the case with Paddle 3)
_measured = {}


def bytes_per_pixel(net, arch_cfg, contract, device="cpu"):
    """Bytes of peak memory per input pixel of one forward pass of ``net`` (cached)."""
    identity = {"arch": arch_cfg, "contract": list(contract), "gpu": is_gpu(device), "paddle": paddle.__version__}
    key = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:24]
    if key in _measured:
        return _measured[key]
    try:
        path = os.path.join(cache_dir("memory"), f"{key}.json")
    except PlaceError:  # an unusable cache only costs the measurement each time
        path = None
    value = _read(path) if path else None
    if value is None:
        value = measure(net, contract, device)
        if path:
            _write(path, {**identity, "bytes_per_pixel": value})
    _measured[key] = value
    return value


def measure(net, contract, device="cpu"):
    side = padded_size(MEASURE_SIDE, contract.size_multiple)
    peaks = [_peak_of_forward(net, contract.in_channels, s, device) for s in (side, 2 * side)]
    if None in peaks:
        return FALLBACK_BYTES_PER_PIXEL
    slope = (peaks[1] - peaks[0]) / (3 * side * side)
    return max(int(np.ceil(slope)), 1)


def _peak_of_forward(net, channels, side, device):
    """Peak bytes allocated above the level before the pass, for one pass at ``side`` x ``side``."""
    core = paddle.base.core
    gpu = is_gpu(device)
    if gpu:
        index = int(str(device).partition(":")[2] or 0)
        current = lambda: core.device_memory_stat_current_value("Allocated", index)  # noqa: E731
        peak = lambda: core.device_memory_stat_peak_value("Allocated", index)  # noqa: E731
        reset = lambda: core.device_memory_stat_reset_peak_value("Allocated", index)  # noqa: E731
    else:
        if not hasattr(core, "host_memory_stat_peak_value"):
            return None
        current = lambda: core.host_memory_stat_current_value("Allocated", 0)  # noqa: E731
        peak = lambda: core.host_memory_stat_peak_value("Allocated", 0)  # noqa: E731
        reset = lambda: core.host_memory_stat_reset_peak_value("Allocated", 0)  # noqa: E731
    was_training = net.training
    net.eval()
    try:
        x = paddle.full([1, channels, side, side], 0.5, dtype="float32")
        reset()
        before = current()
        with paddle.no_grad():
            out = net(x)
        del out
        return peak() - before
    finally:
        net.train(was_training)


def _read(path):
    try:
        with open(path) as f:
            return int(json.load(f)["bytes_per_pixel"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path, record):
    try:
        write_text_atomic(path, json.dumps(record, indent=1, sort_keys=True, default=str))
    except OSError as err:  # a read-only cache only costs a new measurement next time
        log.debug("memory figure not cached: %s", err)
