"""Peak memory of one forward pass per input pixel, per architecture/task and backend (CPU).

    python benchmarks/measure_memory.py                        # every MPRNet and MIRNetV2 task
    python benchmarks/measure_memory.py --model MPRNet:Deraining --sizes 128 256 --backends dygraph

Each (model, backend, size) runs in a fresh process (random weights: memory does not depend on
their values): the network and backend are built and warmed up on a small probe, the process's
peak RSS is reset (``/proc/self/clear_refs``), one forward pass of a size x size image runs, and
the rise of the peak over the resident size before it is recorded. The slope between two sizes is
the bytes per input pixel (the ``bytes_per_pixel`` of the model index, ppir/archs/released.py);
fixed costs (weights, code) cancel out. Linux only (reads /proc). The predictors do not use these
figures: they measure the network they build (``ppir/apps/memory_use.py``, Paddle's allocator
peak); this script checks that the exported backends need about as much as that.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DEFAULT_MODELS = ["MPRNet:Deblurring", "MPRNet:Denoising", "MPRNet:Deraining", "MIRNetV2:real_denoising"]


def proc_status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def child(model, backend_name, size):
    import numpy as np
    import paddle

    from ppir.apps.backends import ExportCache
    from ppir.apps.backends.selection import build_backend
    from ppir.archs import build_arch

    arch, task = model.split(":")
    paddle.seed(0)
    net = build_arch({"name": arch, "task": task})
    net.eval()
    exports = ExportCache(net, {"name": arch, "task": task, "seed": 0})
    backend = build_backend(backend_name, net, exports, "cpu")
    channels = exports.in_channels
    backend(np.zeros((1, channels, 32, 32), np.float32))  # warm up: code paths, arenas for tiny inputs
    x = np.random.default_rng(0).random((1, channels, size, size), dtype=np.float32)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak RSS (VmHWM) to the current RSS
    before = proc_status_kib("VmRSS")
    backend(x)
    peak = proc_status_kib("VmHWM")
    print(json.dumps({"rise_bytes": (peak - before) * 1024}))


def measure(model, backend, size, home):
    env = dict(os.environ, PPIR_HOME=home)
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", model, backend, str(size)],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["rise_bytes"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", nargs="+", default=DEFAULT_MODELS, help="ARCH:TASK")
    parser.add_argument("--backends", nargs="+", default=["dygraph", "paddle-inference", "onnxruntime"])
    parser.add_argument("--sizes", nargs=2, type=int, default=[128, 256])
    parser.add_argument("--repeat", type=int, default=1, help="runs per point (median)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child[0], args.child[1], int(args.child[2]))
    small, large = args.sizes
    with tempfile.TemporaryDirectory() as home:
        print(f"{'model':26} {'backend':17} {'rise@' + str(small):>12} {'rise@' + str(large):>12} {'bytes/pixel':>12}")
        for model in args.model:
            for backend in args.backends:
                rises = [statistics.median(measure(model, backend, s, home) for _ in range(args.repeat))
                         for s in (small, large)]
                slope = (rises[1] - rises[0]) / (large * large - small * small)
                print(f"{model:26} {backend:17} {rises[0] / 2**20:10.1f}Mi {rises[1] / 2**20:10.1f}Mi {slope:12.0f}",
                      flush=True)


if __name__ == "__main__":
    main()
