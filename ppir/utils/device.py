"""Choosing where Paddle runs. GPU-only paths sit behind ``is_gpu(...)`` so the same code runs on CPU."""
import paddle

from ..errors import PpirError
from .cpu import tune_cpu_runtime


def gpu_available():
    return paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0


def select_device(device=None):
    """Set and return Paddle's device: ``None``/'auto' picks the GPU when there is one, else the CPU."""
    if device in (None, "auto"):
        device = "gpu" if gpu_available() else "cpu"
    device = str(device).lower()
    if device.startswith("gpu") and not gpu_available():
        raise PpirError(
            f"device {device!r} requested but this Paddle has no usable GPU "
            "(install paddlepaddle-gpu from Paddle's package index, or use --device cpu)"
        )
    if not (device == "cpu" or device.startswith("gpu")):
        raise PpirError(f"unknown device {device!r}; use 'cpu', 'gpu' or 'gpu:N'")
    paddle.set_device(device)
    if device == "cpu":
        tune_cpu_runtime()
    return device


def is_gpu(device):
    return str(device).startswith("gpu")
