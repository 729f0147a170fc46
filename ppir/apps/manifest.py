"""The record of a batch: ``<output_path>/<task>/manifest.jsonl``, one JSON object per input, in
input order, whatever the number of processes that restored them:

    {"input": "photos/a/x.jpg", "output": "out/Deblurring/a/x.png", "status": "restored",
     "seconds": 1.93, "rank": 1, "error": null}

``status`` is ``restored``, ``skipped`` (``--skip_existing`` and the output was there) or
``failed`` (``error`` says why, in one line; ``output`` is null). ``input`` of a dual-view job is
the ``[left, right]`` pair; a video's line also has ``frames``. The file is written once, at the
end, atomically.
"""
import json
import os

from ..utils.atomic import write_text_atomic

FIELDS = ("input", "output", "status", "seconds", "rank", "error")
MANIFEST = "manifest.jsonl"


def entry(source, output, status, seconds, rank, error=None):
    source = [os.fspath(s) for s in source] if isinstance(source, tuple) else os.fspath(source)
    return {"input": source, "output": None if output is None else os.fspath(output), "status": status,
            "seconds": round(float(seconds), 4), "rank": int(rank), "error": error}


def write_manifest(folder, entries):
    """Write ``entries`` (dicts with at least FIELDS) to ``folder/manifest.jsonl``; returns its path."""
    lines = []
    for e in entries:
        extra = {k: v for k, v in e.items() if k not in FIELDS and not k.startswith("_")}
        lines.append(json.dumps({**{k: e.get(k) for k in FIELDS}, **extra}, ensure_ascii=False) + "\n")
    return write_text_atomic(os.path.join(folder, MANIFEST), "".join(lines))


def read_manifest(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
