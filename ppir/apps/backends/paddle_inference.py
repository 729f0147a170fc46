"""Paddle Inference on an exported static graph.

CPU: oneDNN on (about 2x faster than without it for MPRNet; it needs the export-friendly
resampling, which ``export.py`` always uses), one thread per available core, and a bounded
oneDNN shape cache because every image size is a new shape.

GPU (``device='gpu'``): the CUDA executor, optionally in FP16 (``fp16=True``) and/or through
TensorRT (``tensorrt=True``; needs a Paddle built with TensorRT; engines are cached next to the
exported model, with a dynamic shape range from ``TRT_SHAPES``). FP16 results are not equal to
FP32 ones: their agreement check uses ``FP16_TOLERANCE`` instead of the FP32 tolerance.

``config_steps`` lists the configuration calls as data, so the GPU branch is checked on machines
without a GPU; ``build_config`` applies them to a real ``paddle.inference.Config``.
"""
import os

from ...errors import PpirError
from ...utils.cpu import math_threads
from ...utils.device import is_gpu

FP16_TOLERANCE = 2e-2
GPU_MEMORY_POOL_MB = 512
ONEDNN_SHAPE_CACHE = 8  # shapes kept compiled; tiles repeat one shape, whole images differ
# TensorRT dynamic shape range (min, max, optimal) for H and W; outside it TensorRT rebuilds.
TRT_SHAPES = (32, 2048, 512)
TRT_WORKSPACE = 1 << 30


def config_steps(device, in_channels, fp16=False, tensorrt=False, cache_dir=None):
    """The ``paddle.inference.Config`` calls for this setup, as (method name, args) pairs."""
    steps = [("switch_ir_optim", (True,)), ("disable_glog_info", ())]
    if not is_gpu(device):
        if fp16 or tensorrt:
            raise PpirError("fp16 and tensorrt need a GPU (device='gpu'); on the CPU ppir runs FP32")
        return steps + [
            ("disable_gpu", ()),
            ("enable_mkldnn", ()),
            ("set_mkldnn_cache_capacity", (ONEDNN_SHAPE_CACHE,)),
            ("set_cpu_math_library_num_threads", (math_threads(),)),
        ]
    index = int(str(device).partition(":")[2] or 0)
    precision = "Half" if fp16 else "Float32"
    steps.append(("enable_use_gpu", (GPU_MEMORY_POOL_MB, index, precision)))
    if tensorrt:
        lo, hi, opt = TRT_SHAPES
        steps += [
            ("enable_tensorrt_engine", (TRT_WORKSPACE, 1, 3, precision, True, False)),
            ("set_trt_dynamic_shape_info", (
                {"x": [1, in_channels, lo, lo]}, {"x": [1, in_channels, hi, hi]}, {"x": [1, in_channels, opt, opt]})),
        ]
        if cache_dir:
            steps.append(("set_optim_cache_dir", (cache_dir,)))
    return steps


def build_config(model_file, params_file, steps):
    from paddle import inference

    config = inference.Config(model_file, params_file)
    for method, args in steps:
        args = tuple(getattr(inference.PrecisionType, a) if a in ("Half", "Float32") else a for a in args)
        try:
            getattr(config, method)(*args)
        except RuntimeError as err:  # e.g. TensorRT requested from a Paddle built without it
            raise PpirError(f"Paddle Inference cannot {method}: {str(err).splitlines()[0]}") from None
    return config


class PaddleInferenceBackend:
    name = "paddle-inference"

    def __init__(self, model_file, params_file, device="cpu", in_channels=3, fp16=False, tensorrt=False):
        from paddle import inference

        steps = config_steps(device, in_channels, fp16, tensorrt, os.path.dirname(model_file))
        self.predictor = inference.create_predictor(build_config(model_file, params_file, steps))
        self.input = self.predictor.get_input_handle(self.predictor.get_input_names()[0])
        self.output = self.predictor.get_output_handle(self.predictor.get_output_names()[0])
        extras = [x for x, on in (("FP16", fp16), ("TensorRT", tensorrt)) if on]
        where = "GPU" if is_gpu(device) else "CPU, oneDNN"
        self.description = f"paddle-inference ({', '.join([where] + extras)})"

    def __call__(self, x):
        self.input.reshape(list(x.shape))
        self.input.copy_from_cpu(x)
        self.predictor.run()
        return self.output.copy_to_cpu()
