"""A Triton Inference Server model repository for a ppir network (``tools/export_model.py
--format triton``): the ONNX export, checked against dygraph on a probe image like every export,
and a ``config.pbtxt`` for Triton's ONNX Runtime backend with dynamic batch, height and width::

    OUTPUT/<name>/config.pbtxt
    OUTPUT/<name>/1/model.onnx

Input ``x`` and the output are NCHW float32 in [0, 1]; height and width must be multiples of the
network's size multiple (pad first, crop after, as the predictors do). Not tested against a
Triton server here (none runs on this machine); the ONNX model itself is run by ONNX Runtime.
"""
import os
import shutil
import tempfile

from ..archs import ARCHS
from ..errors import ConfigError
from ..utils.places import check_writable_folder
from .exporting import export_model

CONFIG = """# Triton model configuration written by ppir (tools/export_model.py --format triton).
# Input and output are NCHW float32 in [0, 1], any batch; height and width must be
# multiples of {multiple} (pad the image first, crop the result after).
name: "{name}"
backend: "onnxruntime"
max_batch_size: 0
input [
  {{
    name: "{input}"
    data_type: TYPE_FP32
    dims: [ -1, {in_channels}, -1, -1 ]
  }}
]
output [
  {{
    name: "{output}"
    data_type: TYPE_FP32
    dims: [ -1, {out_channels}, -1, -1 ]
  }}
]
instance_group [ {{ kind: KIND_AUTO, count: 1 }} ]
"""


def model_name(arch, task=None):
    return "_".join(str(part).lower() for part in (arch, task) if part)


def export_triton(arch, output, task=None, weight_path=None):
    """Write the repository to the folder ``output`` (new or empty); returns (model folder,
    {backend: max abs difference from dygraph on the probe})."""
    output = os.fspath(output)
    check_writable_folder(output, "export folder")  # before any network is built
    if os.path.isdir(output) and os.listdir(output):
        raise ConfigError(f"{output}: folder is not empty; export into a new or empty folder")
    parent = os.path.dirname(os.path.abspath(output))
    os.makedirs(parent, exist_ok=True)
    name = model_name(arch, task)
    staging = tempfile.mkdtemp(dir=parent, prefix=".triton-")
    try:
        exported = os.path.join(staging, "export")
        checked = export_model(arch, exported, task, weight_path, onnx=True)
        version = os.path.join(staging, "repository", name, "1")
        os.makedirs(version)
        onnx_path = os.path.join(version, "model.onnx")
        os.replace(os.path.join(exported, "model.onnx"), onnx_path)
        with open(os.path.join(staging, "repository", name, "config.pbtxt"), "w") as f:
            f.write(model_config(onnx_path, name, ARCHS.get(arch).size_multiple))
        if os.path.isdir(output):
            os.rmdir(output)
        os.rename(os.path.join(staging, "repository"), output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return os.path.join(output, name), checked


def model_config(onnx_path, name, size_multiple):
    """config.pbtxt for the ONNX model at ``onnx_path``, with the names and channels it declares."""
    import onnx  # installed with paddle2onnx, which made the model

    graph = onnx.load(onnx_path, load_external_data=False).graph
    initializers = {init.name for init in graph.initializer}
    (given,) = [value for value in graph.input if value.name not in initializers]
    returned = graph.output[0]

    def channels(value):
        return value.type.tensor_type.shape.dim[1].dim_value or -1

    return CONFIG.format(name=name, multiple=size_multiple, input=given.name, output=returned.name,
                         in_channels=channels(given), out_channels=channels(returned))
