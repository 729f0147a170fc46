"""``<output>/<task>/report/index.html`` for restored photos (the apps' ``--report``): no targets,
so each photo is shown as input against restored (crops where they differ most, a before/after
slider, a heat-map of the change) with a table of how much each photo changed."""
import os

import cv2
import numpy as np

from ..apps.manifest import MANIFEST, read_manifest
from ..utils.distributed import rank
from ..utils.atomic import write_text_atomic
from ..utils.image_io import read_image, to_float, write_image
from . import page
from .evaluation_report import safe
from .pictures import crops, rgb3

MAX_CARDS = 24


def write_photo_report(folder, jobs, title="Restored photos"):
    """``jobs``: [(input path or (left, right) paths, restored path)]; returns the page's path."""
    os.makedirs(folder, exist_ok=True)
    rows, cards = [], []
    for index, (source, output) in enumerate(jobs):
        source = source[0] if isinstance(source, tuple) else source
        before = rgb3(to_float(read_image(source)))
        after = rgb3(to_float(read_image(output)))
        if before.shape[:2] != after.shape[:2]:  # super-resolution: compare at the result's size
            before = cv2.resize(before, (after.shape[1], after.shape[0]), interpolation=cv2.INTER_CUBIC)
        change = np.abs(after - before).mean(axis=2)
        name = os.path.splitext(os.path.basename(output))[0]
        rows.append({"name": name, "input": os.fspath(source), "size": f"{after.shape[1]}x{after.shape[0]}",
                     "mean change": float(change.mean()), "largest change (95th pct.)": float(np.percentile(change, 95))})
        if index < MAX_CARDS:
            pictures, _ = crops({"input": before, "restored": after}, before, after)
            sources = {}
            for kind, image in pictures.items():
                relative = f"images/{index:04d}_{safe(name)}_{kind}.png"
                write_image(os.path.join(folder, relative), image)
                sources[kind] = relative
            figures = [("input", sources["input"]), ("restored", sources["restored"]),
                       ("change |restored - input|", sources["error"])]  # fmt: skip
            cards.append(page.card(name, rows[-1]["size"], figures, (sources["input"], sources["restored"],
                                                                      "input | restored")))  # fmt: skip
    sections = [
        f'<p class="note">{len(rows)} photo(s); no targets, so no scores: how much restoration changed each one.</p>',
        page.histogram_svg([r["mean change"] for r in rows], "mean absolute change per photo (0..1 scale)"),
        "<h2>Photos</h2>" + page.table(list(rows[0]) if rows else ["name"], rows, text_columns=("name", "input", "size")),
    ]
    if cards:
        sections.append(f"<h2>Input against restored (crops where they differ most; first {len(cards)})</h2>"
                        f'<div class="cards">{"".join(cards)}</div>')
    path = os.path.join(folder, "index.html")
    write_text_atomic(path, page.page(title, sections))
    return path


def report_from_manifest(folder, title):
    """The page for the images a batch restored (its ``manifest.jsonl`` in ``folder``), written to
    ``folder/report/`` by the first process; returns its path, or None when there is nothing."""
    path = os.path.join(folder, MANIFEST)
    if rank() != 0 or not os.path.exists(path):
        return None
    jobs = [(e["input"][0] if isinstance(e["input"], list) else e["input"], e["output"]) for e in read_manifest(path)
            if e["status"] in ("restored", "skipped") and e["output"] and "frames" not in e]  # fmt: skip
    return write_photo_report(os.path.join(folder, "report"), jobs, title) if jobs else None
