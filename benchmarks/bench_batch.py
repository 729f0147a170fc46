"""Images per second of a folder batch, decode/compute/encode one after the other vs overlapped.

    python benchmarks/bench_batch.py                      # 32 photos of 384x256, tiny MPRNet, dygraph
    python benchmarks/bench_batch.py --size 1024 768 --n_feat 16 --repeat 3 --backend onnxruntime

Writes ``--count`` photos from scikit-image (crops of its sample photos, resized to ``--size``, as
JPEG) into a temporary folder, then restores the folder with a small MPRNet (random weights of
width ``--n_feat``: a network where reading and writing files is a real share of the time) the way
the command line does (``ppir.apps.batch.restore_jobs``: read, restore, write a PNG per photo),
``--repeat`` times each way, alternating: ``sequential`` (each photo read, restored and written
before the next) and ``pipelined`` (reading and writing on background threads with bounded
queues). Prints a Markdown table with the median of each and the ratio, and the share of each step
per image (measured one after the other on the first 8): the overlap can at best hide all but the
longest step. Benchmarks are not tests: the numbers depend on the machine and its load.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "camera", "hubble_deep_field",
          "retina")


def make_photos(folder, count, size):
    from skimage import data

    from ppir.utils.image_io import write_image

    rng = np.random.default_rng(0)
    for i in range(count):
        photo = getattr(data, PHOTOS[i % len(PHOTOS)])()
        photo = photo if photo.ndim == 3 else np.dstack([photo] * 3)
        h, w = photo.shape[:2]
        y, x = rng.integers(0, h // 4 + 1), rng.integers(0, w // 4 + 1)
        crop = photo[y : y + 3 * h // 4, x : x + 3 * w // 4, :3]
        write_image(os.path.join(folder, f"photo{i:02d}.jpg"), cv2.resize(crop, tuple(size), interpolation=cv2.INTER_AREA))


def phase_seconds(predictor, jobs):
    """Mean seconds per image to read and decode, to restore, and to encode and write."""
    from ppir.utils.image_io import write_image

    spent = {"read": 0.0, "restore": 0.0, "write": 0.0}
    for source, output in jobs:
        start = time.perf_counter()
        image = predictor.read_job_input(source)
        read = time.perf_counter()
        restored = predictor.restore(image)
        computed = time.perf_counter()
        write_image(output, restored)
        spent["read"] += read - start
        spent["restore"] += computed - read
        spent["write"] += time.perf_counter() - computed
    return {name: seconds / len(jobs) for name, seconds in spent.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=32)
    parser.add_argument("--size", type=int, nargs=2, default=(384, 256), metavar=("W", "H"))
    parser.add_argument("--n_feat", type=int, default=8, help="MPRNet width (the released networks: 40-96)")
    parser.add_argument("--backend", default="dygraph")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    import paddle

    from ppir.apps import MPRPredictor
    from ppir.apps.batch import restore_jobs
    from ppir.archs import build_arch

    work = tempfile.mkdtemp(prefix="ppir_bench_batch_")
    try:
        photos = os.path.join(work, "photos")
        make_photos(photos, args.count, args.size)
        weights = os.path.join(work, "tiny.pdparams")
        paddle.seed(0)
        arch = {"name": "MPRNet", "n_feat": args.n_feat, "scale_unetfeats": args.n_feat // 2,
                "scale_orsnetfeats": args.n_feat // 2, "num_cab": 1}
        paddle.save(build_arch(arch).state_dict(), weights)
        predictor = MPRPredictor("Denoising", output_path=os.path.join(work, "out"), weight_path=weights,
                                 backend=args.backend, tile=0)
        jobs, _ = predictor.collect(photos)
        list(restore_jobs(predictor, jobs[:2], pipelined=False))  # warm up

        phases = phase_seconds(predictor, jobs[: min(8, len(jobs))])
        times = {"sequential": [], "pipelined": []}
        for _ in range(args.repeat):
            for mode in times:
                start = time.perf_counter()
                results = list(restore_jobs(predictor, jobs, pipelined=mode == "pipelined"))
                times[mode].append(time.perf_counter() - start)
                assert all(error is None for (_, _, error), _, _ in results)
        print(f"{args.count} photos of {args.size[0]}x{args.size[1]} (JPEG in, PNG out), MPRNet n_feat "
              f"{args.n_feat}, {predictor.backend.description}, median of {args.repeat}:\n")
        print("| mode | seconds | images/s | × sequential |\n|---|---:|---:|---:|")
        base = statistics.median(times["sequential"])
        for mode, values in times.items():
            seconds = statistics.median(values)
            print(f"| {mode} | {seconds:.2f} | {args.count / seconds:.2f} | {base / seconds:.2f} |")
        total = sum(phases.values())
        print(f"\nper image (first {min(8, len(jobs))}, one after the other): "
              + ", ".join(f"{name} {seconds * 1000:.0f} ms ({100 * seconds / total:.1f} %)"
                          for name, seconds in phases.items())
              + f"; the overlap can at best reach {total / max(phases.values()):.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
