"""Inference speed of the predictors per backend and image size, against dygraph and the compute floor.

    python benchmarks/bench_predictor.py                                   # MPRNet-Deraining, 128/256/512
    python benchmarks/bench_predictor.py --model MIRNetV2:real_denoising --sizes 256 --repeat 5
    python benchmarks/bench_predictor.py --official /path/to/MPRNet/Deraining/MPRNet.py   # + PyTorch

For each backend (and 'auto', the predictors' default) a predictor with random weights of the
released configuration restores a size x size RGB photo whole (``tile=0``), after one warm-up run
at that size; the median of ``--repeat`` runs is reported as seconds, seconds per megapixel (flat
when time grows linearly with pixels) and the ratio to dygraph measured in the same run.

The compute floor is the network's convolution FLOPs at that size (counted by hooks on every conv
layer during one forward pass) divided by the float32 matrix-multiply rate of this machine measured
in the same run (NumPy's BLAS on 2048x2048 matrices, all cores): no backend can beat it by much, and
'x floor' says how far each one is from it.

``--official PATH`` also times the official PyTorch network (needs torch; PATH is the official
``MPRNet.py`` of the task, which ppir does not ship) built with the same widths, in
``torch.no_grad()``, in a separate interpreter with PyTorch's own defaults (neither ppir nor
Paddle imported: as the official demo runs), and prints each backend's time relative to it.
Benchmarks are not tests: the numbers depend on the machine and its load.
"""
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

# The environment as the user started this script: importing Paddle sets OMP_NUM_THREADS=1, which
# the official PyTorch child would inherit and run on one thread only.
LAUNCH_ENV = dict(os.environ)

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DEFAULT_BACKENDS = ("dygraph", "paddle-inference", "onnxruntime", "auto")


def median_seconds(run, repeat):
    run()  # warm up: first-call compilation, shape-specific caches, memory arenas
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_flops_per_second(n=2048, repeat=10):
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeat))
    return 2.0 * n**3 / best


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def conv_flops(net, channels, size):
    """FLOPs (2 x multiply-adds) of every Conv2D / Conv2DTranspose in one forward pass."""
    import paddle
    from paddle import nn

    total = [0]

    def count(layer, inputs, output):
        # conv weight [out, in/groups, k, k]: each output value costs in/groups*k*k multiply-adds;
        # transposed conv weight [in, out/groups, k, k]: each input value spreads over out/groups*k*k
        per_value = int(np.prod(layer.weight.shape[1:]))
        values = inputs[0] if isinstance(layer, nn.Conv2DTranspose) else output
        total[0] += 2 * int(np.prod(values.shape)) * per_value

    hooks = [layer.register_forward_post_hook(count) for layer in net.sublayers()
             if isinstance(layer, (nn.Conv2D, nn.Conv2DTranspose))]
    try:
        with paddle.no_grad():
            net(paddle.zeros([1, channels, size, size]))
    finally:
        for hook in hooks:
            hook.remove()
    return total[0]


def official_seconds(path, arch_cfg, size, channels, repeat):
    """Median seconds of the official PyTorch network (random weights) on one image, timed in a
    fresh interpreter that imports neither ppir nor Paddle, so it runs as its users run it."""
    widths = {k: arch_cfg[k] for k in ("n_feat", "scale_unetfeats", "scale_orsnetfeats") if k in arch_cfg}
    args = [os.path.abspath(path), json.dumps(widths), str(size), str(channels), str(repeat)]
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--official-child", *args],
                          env=LAUNCH_ENV, capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


def official_child(path, widths, size, channels, repeat):
    import torch

    spec = importlib.util.spec_from_file_location("official_mprnet", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(path))
    spec.loader.exec_module(module)
    net = module.MPRNet(**json.loads(widths)).eval()
    x = torch.rand(1, int(channels), int(size), int(size))

    def run():
        with torch.no_grad():
            net(x)

    print(median_seconds(run, int(repeat)))


def build_predictor(predictor_class, task, weights, backend):
    return predictor_class(task, weight_path=weights, backend=backend, tile=0, output_path=tempfile.gettempdir())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="MPRNet:Deraining", help="ARCH:TASK (MPRNet or MIRNetV2)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[128, 256, 512])
    parser.add_argument("--backends", nargs="+", default=list(DEFAULT_BACKENDS))
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per point (median)")
    parser.add_argument("--official", help="path of the official MPRNet.py (times PyTorch too; needs torch)")
    parser.add_argument("--official-child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.official_child:
        return official_child(*args.official_child)

    with tempfile.TemporaryDirectory() as home:
        os.environ["PPIR_HOME"] = home  # exports of the random weights stay out of the user's cache
        run_benchmark(args, home)


def run_benchmark(args, home):
    import paddle

    from ppir.apps import MIRNetV2Predictor, MPRPredictor
    from ppir.archs import build_arch
    from ppir.archs.mprnet import MPRNET_TASKS

    arch, task = args.model.split(":")
    if args.official and arch != "MPRNet":
        raise SystemExit("--official times the official MPRNet only")
    # Measured first, before any Paddle or ONNX Runtime thread pool exists: idle pools keep
    # spinning for a while after each run and would slow whatever runs beside them.
    rate = matmul_flops_per_second()
    official = {}
    if args.official:
        widths = MPRNET_TASKS[task]
        official = {size: official_seconds(args.official, widths, size, 3, args.repeat) for size in args.sizes}

    predictor_class = {"MPRNet": MPRPredictor, "MIRNetV2": MIRNetV2Predictor}[arch]
    paddle.seed(0)
    net = build_arch({"name": arch, "task": task})
    net.eval()
    weights = os.path.join(home, "random.pdparams")
    paddle.save(net.state_dict(), weights)
    print(f"{args.model}, Paddle {paddle.__version__}, {len(os.sched_getaffinity(0))} cores; "
          f"float32 matmul rate {rate / 1e9:.1f} GFLOP/s")
    predictors = {}
    for name in args.backends:
        start = time.perf_counter()
        predictors[name] = build_predictor(predictor_class, task, weights, name)
        print(f"  {name}: {predictors[name].backend.description} (ready in {time.perf_counter() - start:.1f} s)")

    header = f"{'size':>6} {'backend':>17} {'seconds':>9} {'s/MP':>8} {'x dygraph':>10} {'x floor':>8}"
    if args.official:
        header += f" {'x official':>11}"
    print(header)
    rng = np.random.default_rng(0)
    for size in args.sizes:
        channels = predictors[args.backends[0]].in_channels
        photo = (rng.random((size, size, 3)) * 255).astype(np.uint8)
        megapixels = size * size / 1e6
        floor = conv_flops(net, channels, size) / rate
        rows = [("floor", floor)]
        if args.official:
            rows.append(("official PyTorch", official[size]))
        for name, predictor in predictors.items():
            rows.append((name, median_seconds(lambda: predictor.restore(photo), args.repeat)))
        reference = dict(rows).get("dygraph")
        for name, seconds in rows:
            line = f"{size:>6} {name:>17} {seconds:9.3f} {seconds / megapixels:8.2f}"
            line += f" {seconds / reference:10.2f}" if reference else f" {'':>10}"
            line += f" {seconds / floor:8.2f}"
            if args.official:
                line += f" {seconds / official[size]:11.2f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
