"""ONNX Runtime on the paddle2onnx export: the fastest CPU backend measured here (see
``benchmarks/bench_predictor.py``). On a GPU it uses the CUDA provider when the installed
onnxruntime has one (``onnxruntime-gpu``), else the CPU."""
from ...utils.device import is_gpu
from ...utils.cpu import math_threads


class OnnxRuntimeBackend:
    name = "onnxruntime"

    def __init__(self, onnx_path, device="cpu"):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = math_threads()
        options.log_severity_level = 3  # errors only
        providers = ["CPUExecutionProvider"]
        if is_gpu(device) and "CUDAExecutionProvider" in ort.get_available_providers():
            index = int(str(device).partition(":")[2] or 0)
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": index}))
        self.session = ort.InferenceSession(onnx_path, options, providers=providers)
        self.input_name = self.session.get_inputs()[0].name
        used = self.session.get_providers()[0].replace("ExecutionProvider", "")
        self.description = f"onnxruntime {ort.__version__} ({used})"

    def __call__(self, x):
        options = self._shrink_once
        self._shrink_once = None
        return self.session.run(None, {self.input_name: x}, options)[0]

    _shrink_once = None

    def release_memory(self):
        """ONNX Runtime keeps the peak of its memory arena (after an out-of-memory run too); the
        next run gives the arena back to the system when it ends."""
        import onnxruntime as ort

        options = ort.RunOptions()
        options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        self._shrink_once = options
