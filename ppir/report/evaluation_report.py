"""``<output dir>/report/``: ``per_image.csv`` and ``index.html`` for an evaluation with targets
(``tools/main.py --evaluate-only --load W --report``, or ``val.report: true`` after training)."""
import os
import re

import numpy as np

from ..archs.model_index import released_models
from ..utils.atomic import write_text_atomic
from ..utils.image_io import write_image
from . import page
from .table import protocol_line, rows_of, write_csv


def published_numbers(arch_cfg, set_names):
    """``{set: 'PSNR / SSIM [source]'}`` from the model index for the sets named like a benchmark
    the released model of ``arch_cfg`` (name + task) was published on."""
    try:
        release = released_models(arch_cfg.get("name")).get(arch_cfg.get("task"))
    except Exception:  # noqa: BLE001 - an unknown network simply has no published numbers
        release = None
    found = {}
    for benchmark, numbers, source in getattr(release, "published", ()) or ():
        for set_name in set_names:
            if _plain(set_name) == _plain(benchmark):
                found[set_name] = f"{numbers} {source}"
    return found


def _plain(name):
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def safe(name):
    return re.sub(r"[^\w.\-]+", "_", str(name))


def write_evaluation_report(folder, result, collector, published=None, title="Evaluation report"):
    """Write the report of ``result`` (an ``EvalResult`` with ``per_image``) and return the page's path."""
    published = published or {}
    os.makedirs(folder, exist_ok=True)
    all_rows, comments, summary_rows, sections = [], [], [], []
    for set_name, records in result.per_image.items():
        evaluator = collector.protocols.get(set_name)
        if evaluator is None:
            continue
        labels = list(evaluator.labels)
        rows = rows_of(set_name, records, labels, collector.input_scores.get(set_name, {}))
        all_rows += rows
        comments.append(protocol_line(set_name, evaluator))
        summary = {"dataset": set_name, "images": len(rows)}
        for label in labels:
            summary[label] = result.summaries[set_name][label]
            if rows and all(f"input_{label}" in r for r in rows):
                summary[f"input {label}"] = float(np.mean([r[f"input_{label}"] for r in rows]))
                summary[f"gain {label}"] = summary[label] - summary[f"input {label}"]
        summary["published"] = published.get(set_name, "")
        summary_rows.append(summary)
        sections.append(_set_section(folder, set_name, rows, labels, collector))
    write_csv(os.path.join(folder, "per_image.csv"), all_rows, comments)
    summary_columns = list(dict.fromkeys(k for row in summary_rows for k in row))
    head = [f'<p class="note">{page.esc(line[2:])}</p>' for line in comments]
    head.append("<h2>Means per dataset</h2>" + page.table(summary_columns, summary_rows, sortable=False,
                                                         text_columns=("dataset", "published")))  # fmt: skip
    head.append('<p class="note">Every image: <a href="per_image.csv">per_image.csv</a>.</p>')
    columns = list(dict.fromkeys(k for row in all_rows for k in row))
    tail = ["<h2>Every image</h2>" + page.table(columns, all_rows)]
    path = os.path.join(folder, "index.html")
    write_text_atomic(path, page.page(title, head + sections + tail))
    return path


def _set_section(folder, set_name, rows, labels, collector):
    first = labels[0]
    parts = [f"<h2>{page.esc(set_name)}</h2>"]
    gains = [r[f"gain_{first}"] for r in rows if f"gain_{first}" in r]
    if gains:
        parts.append(page.histogram_svg(gains, f"per-image gain in {first} (restored - input)"))
    else:
        parts.append(page.histogram_svg([r[first] for r in rows], f"per-image {first}"))
    cards = []
    for name, score, pictures in collector.worst_images(set_name):
        sources = {}
        for kind, image in pictures.items():
            relative = f"images/{safe(set_name)}/{safe(name)}_{kind}.png"
            write_image(os.path.join(folder, relative), image)
            sources[kind] = relative
        figures = [(kind, sources[kind]) for kind in ("input", "restored", "target", "error") if kind in sources]
        compare = (sources["input"], sources["restored"], "input | restored") if "input" in sources else None
        cards.append(page.card(name, f"{first} {score:.3f}", figures, compare))
    if cards:
        parts.append(f"<h3>The {len(cards)} worst by {page.esc(first)} (crops where the error is largest; "
                     "error: |restored - target|, red = 0.25 or more)</h3>")
        parts.append('<div class="cards">' + "".join(cards) + "</div>")
    return "".join(parts)
