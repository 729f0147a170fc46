"""Ways to run an exported or eager network on a NCHW float32 numpy array: ``dygraph`` (the
reference), ``paddle-inference`` and ``onnxruntime``; ``select_backend`` picks and verifies one."""
from .dygraph import DygraphBackend, final_output
from .export import ExportCache, export_onnx, export_static
from .selection import AUTO_ORDER, BACKENDS, DEFAULT_TOLERANCE, select_backend

__all__ = [
    "AUTO_ORDER", "BACKENDS", "DEFAULT_TOLERANCE", "DygraphBackend", "ExportCache", "export_onnx",
    "export_static", "final_output", "select_backend",
]
