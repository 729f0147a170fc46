"""A batch run as the command lines do it, in one process or in many (``sharding``): collect the
inputs, restore this process's share with decode/compute/encode overlapped (``pipeline``), skip
outputs that exist when asked, then one manifest (``manifest``) and one summary for the whole run.

Exit status: 0 when every input was restored (or skipped because it already was), 1 otherwise.
"""
import os
import sys
import time
from dataclasses import dataclass, field

from tqdm import tqdm

from ..utils.distributed import gather_from_all_ranks
from ..utils.image_io import write_image
from . import inputs, manifest, pipeline, sharding
from .base_predictor import PER_IMAGE_ERRORS, _name, describe_failure
from .interrupt import Interrupted, finished_since


@dataclass
class BatchRequest:
    """What a command line asked for: images (anything ``collect`` takes), videos, and whether to
    skip inputs whose output already exists."""

    images: object = None
    videos: list = field(default_factory=list)
    skip_existing: bool = False


def restore_jobs(predictor, jobs, pipelined=True):
    """Restore (input, output) jobs in order; yields (``Result``-like (source, output, error),
    seconds, pixels) per job. Reading and writing run on background threads when ``pipelined``."""
    read = predictor.read_job_input

    def decoded():
        for source, output in jobs:
            start = time.perf_counter()
            try:
                yield source, output, start, read(source), None
            except PER_IMAGE_ERRORS as err:
                yield source, output, start, None, describe_failure(source, err)

    def compute(item):
        source, output, start, image, error = item
        if error is not None:
            return source, output, start, None, error, 0
        view = image[0] if isinstance(image, tuple) else image
        try:
            return source, output, start, predictor.restore(image), None, view.shape[0] * view.shape[1]
        except PER_IMAGE_ERRORS as err:
            return source, output, start, None, describe_failure(source, err), 0

    def write(item):
        source, output, start, restored, error, pixels = item
        if error is None:
            try:
                write_image(output, restored)
            except PER_IMAGE_ERRORS as err:
                error, pixels = describe_failure(source, err), 0
        return (source, None if error else output, error), time.perf_counter() - start, pixels

    run = pipeline.overlapped if pipelined else pipeline.sequential
    yield from run(decoded(), compute, write)


def run(predictor, request, out=sys.stdout):
    """Restore what ``request`` (a ``BatchRequest``, or sources for ``collect``) names; print the
    summary on rank 0; return the exit status (the same on every rank)."""
    if not isinstance(request, BatchRequest):
        request = BatchRequest(images=request)
    rank, world = sharding.join()
    main = rank == 0
    start = time.perf_counter()
    folder = os.path.join(predictor.output_path, predictor.task)
    jobs, failures = predictor.collect(request.images) if request.images else ([], [])
    if main:
        over = f" over {world} processes" if world > 1 else ""
        if request.images or not request.videos:
            print(f"{len(jobs)} image(s) to restore with {predictor.backend.description}{over}", file=out, flush=True)
        if request.videos:
            print(f"{len(request.videos)} video(s) to restore with {predictor.backend.description}{over}", file=out,
                  flush=True)
        for source, output in inputs.renamed(jobs):
            print(f"  {_name(source)} -> {output} (same name as another input)", file=out, flush=True)
    entries = [dict(manifest.entry(s, None, "failed", 0, rank, e), _order=(0, i)) for i, (s, e) in enumerate(failures)]
    entries = entries if main else []
    todo = []
    for index, (source, output) in sharding.shard(enumerate(jobs), rank, world):
        if request.skip_existing and os.path.exists(output):
            entries.append(dict(manifest.entry(source, output, "skipped", 0, rank), _order=(1, index)))
        else:
            todo.append((index, (source, output)))
    pixels = 0
    restoring = restore_jobs(predictor, [job for _, job in todo])
    progress = tqdm(restoring, total=len(todo), unit="image", desc=predictor.task, file=sys.stderr, disable=not todo)
    try:
        for done, ((source, output, error), seconds, job_pixels) in enumerate(progress):
            status = "failed" if error else "restored"
            entries.append(dict(manifest.entry(source, output, status, seconds, rank, error),
                                _order=(1, todo[done][0])))
            pixels += job_pixels
    except Interrupted as stop:  # Ctrl-C / SIGTERM: the pipeline has stopped; say what was done
        progress.close()
        restoring.close()  # the writer thread finishes the image it is writing, then stops
        restored = sum(e["status"] == "restored" for e in entries)
        restored += len(finished_since([job for _, job in todo], entries, start))
        where = f" (process {rank} of {world})" if world > 1 else ""
        print(f"restored {restored} of {len(jobs) + len(failures)} image(s){where} in "
              f"{time.perf_counter() - start:.1f} s; interrupted by {stop.name}; results in {folder}",
              file=out, flush=True)
        return stop.exit_status
    if request.videos:
        from . import video

        for index, path in enumerate(request.videos):
            result = video.restore_video(predictor, path, folder, rank, world, request.skip_existing)
            if result is not None:
                entries.append(dict(result, _order=(2, index)))
    ranks = gather_from_all_ranks({"entries": entries, "pixels": pixels})
    seconds = time.perf_counter() - start
    merged = sorted((e for r in ranks for e in r["entries"]), key=lambda e: e["_order"])
    failed = any(e["status"] == "failed" for e in merged)
    done = any(e["status"] in ("restored", "skipped") for e in merged)
    if main:
        path = manifest.write_manifest(folder, merged)
        summarize(merged, sum(r["pixels"] for r in ranks), seconds, world, folder, path, out)
    return sharding.leave(0 if done and not failed else 1, rank)


def summarize(entries, pixels, seconds, world, folder, manifest_path, out):
    images = [e for e in entries if "frames" not in e]
    videos = [e for e in entries if "frames" in e]
    restored = sum(e["status"] == "restored" for e in images)
    skipped = sum(e["status"] == "skipped" for e in images)
    rate = max(seconds, 1e-9)
    if images or not videos:
        kept = f"; {skipped} skipped (already restored)" if skipped else ""
        print(f"restored {restored} of {len(images)} image(s) in {seconds:.1f} s; results in {folder}{kept}", file=out)
        print(f"{restored / rate:.2f} image(s)/s, {pixels / 1e6 / rate:.3f} MP/s over {world} process(es); "
              f"manifest {manifest_path}", file=out)
    if videos:
        done = [e for e in videos if e["status"] == "restored"]
        frames = sum(e["frames"] for e in done)
        skipped = sum(e["status"] == "skipped" for e in videos)
        kept = f"; {skipped} skipped (already restored)" if skipped else ""
        print(f"restored {len(done)} of {len(videos)} video(s), {frames} frame(s) in {seconds:.1f} s "
              f"({frames / rate:.2f} frame(s)/s over {world} process(es)); results in {folder}{kept}", file=out)
    failures = [e for e in entries if e["status"] == "failed"]
    if failures:
        print(f"{len(failures)} failed:", file=out)
        for e in failures:
            print(f"  {e['error']}", file=out)
    out.flush()

