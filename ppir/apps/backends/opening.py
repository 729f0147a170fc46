"""Opening an exported model (a folder made by ``ExportCache``) with a fast backend."""
import os

from .export import MODEL_STEM, onnx_file, read_meta, static_files

EXPORTED_BACKENDS = ("paddle-inference", "onnxruntime")


def open_exported(name, folder, device, fp16=False, tensorrt=False):
    if name == "paddle-inference":
        from .paddle_inference import PaddleInferenceBackend

        model_file, params_file = static_files(os.path.join(folder, MODEL_STEM))
        in_channels = read_meta(folder)["in_channels"]
        return PaddleInferenceBackend(model_file, params_file, device, in_channels, fp16, tensorrt)
    if name == "onnxruntime":
        from .onnx_runtime import OnnxRuntimeBackend

        return OnnxRuntimeBackend(onnx_file(folder), device)
    raise ValueError(f"{name!r} is not one of {EXPORTED_BACKENDS}")
