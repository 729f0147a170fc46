"""The child-process side of ``worker.run_worker``: the risky first steps (ONNX conversion, the
first run of an exported model), run here so that a native crash only fails that step."""
import numpy as np

from .export import export_onnx
from .opening import open_exported


def main(argv):
    command, args = argv[0], argv[1:]
    if command == "convert-onnx":
        export_onnx(*args)
    elif command == "probe":
        name, folder, device, fp16, tensorrt, probe_path, out_path = args
        backend = open_exported(name, folder, device, fp16 == "True", tensorrt == "True")
        np.save(out_path, backend(np.load(probe_path)))
    else:
        raise SystemExit(f"unknown worker command {command!r}")
