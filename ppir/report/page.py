"""The report page: one self-contained ``index.html`` (inline CSS, SVG and JavaScript, no network,
relative links to the pictures beside it), readable from a ``file://`` URL.

Content: per dataset the mean scores (next to the published number when the model index has
one), a histogram of the per-image gain, a table of every image sortable by any column, and for
the worst images their crops (input / restored / target), a before/after slider and an error
heat-map."""
import html
import math

PAGE_SCRIPT = """
function cellValue(row, index) {
  const text = row.cells[index].dataset.value ?? row.cells[index].textContent;
  const number = parseFloat(text);
  return Number.isNaN(number) ? text.toLowerCase() : number;
}
function sortTable(header) {
  const table = header.closest('table');
  const index = Array.from(header.parentNode.children).indexOf(header);
  const ascending = header.dataset.order !== 'asc';
  for (const other of header.parentNode.children) { delete other.dataset.order; }
  header.dataset.order = ascending ? 'asc' : 'desc';
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = cellValue(a, index), y = cellValue(b, index);
    const order = (typeof x === typeof y) ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === 'number' ? -1 : 1);
    return ascending ? order : -order;
  });
  rows.forEach(row => body.appendChild(row));
}
function moveSlider(slider) {
  const after = slider.parentNode.querySelector('img.after');
  after.style.clipPath = 'inset(0 0 0 ' + Number(slider.value) + '%)';  // input left of the handle, restored right
}
document.querySelectorAll('table.sortable th').forEach(th => th.addEventListener('click', () => sortTable(th)));
document.querySelectorAll('input.slider').forEach(s => { s.addEventListener('input', () => moveSlider(s)); moveSlider(s); });
"""

PAGE_STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th { background: #eee; cursor: pointer; user-select: none; }
th[data-order=asc]::after { content: ' \\25B2'; } th[data-order=desc]::after { content: ' \\25BC'; }
td.text, th.text { text-align: left; }
.cards { display: flex; flex-wrap: wrap; gap: 18px; }
.card { border: 1px solid #ccc; padding: 8px; }
.card figure { display: inline-block; margin: 0 6px 0 0; text-align: center; font-size: 12px; }
.card img { display: block; image-rendering: pixelated; }
.compare { position: relative; display: inline-block; vertical-align: top; }
.compare img.after { position: absolute; top: 0; left: 0; }
.compare input { display: block; width: 100%; }
.note { color: #666; font-size: 13px; }
"""


def esc(value):
    return html.escape(str(value), quote=True)


def number(value, digits=4):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}" if math.isfinite(value) else str(value)
    return str(value)


def table(columns, rows, sortable=True, text_columns=("dataset", "name")):
    """An HTML table; cells keep their exact value in ``data-value`` for sorting."""
    head = "".join(f'<th class="{"text" if c in text_columns else ""}">{esc(c)}</th>' for c in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            kind = "text" if column in text_columns else ""
            exact = f' data-value="{esc(repr(value))}"' if isinstance(value, float) else ""
            cells.append(f'<td class="{kind}"{exact}>{esc(number(value))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    css = "sortable" if sortable else ""
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def histogram_svg(values, label, bins=20, width=520, height=180):
    """An inline SVG histogram of ``values`` (finite ones), with a line at 0 when 0 is in range."""
    values = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    if not values:
        return '<p class="note">no finite values to plot</p>'
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    step = (high - low) / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - low) / step))] += 1
    left, bottom, top = 40, height - 30, 10
    plot_w, plot_h = width - left - 10, bottom - top
    peak = max(counts)
    bars = []
    for i, count in enumerate(counts):
        bar_h = plot_h * count / peak
        x = left + plot_w * i / bins
        bars.append(f'<rect x="{x:.1f}" y="{bottom - bar_h:.1f}" width="{plot_w / bins - 1:.1f}" height="{bar_h:.1f}" '
                    f'fill="#4a7ab5"><title>{low + i * step:.3f} .. {low + (i + 1) * step:.3f}: {count}</title></rect>')
    zero = ""
    if low < 0 < high:
        x0 = left + plot_w * (0 - low) / (high - low)
        zero = f'<line x1="{x0:.1f}" y1="{top}" x2="{x0:.1f}" y2="{bottom}" stroke="#c33" stroke-dasharray="4 3"/>'
    axis = (f'<line x1="{left}" y1="{bottom}" x2="{left + plot_w}" y2="{bottom}" stroke="#333"/>'
            f'<text x="{left}" y="{height - 12}" font-size="11">{low:.2f}</text>'
            f'<text x="{left + plot_w}" y="{height - 12}" font-size="11" text-anchor="end">{high:.2f}</text>'
            f'<text x="{left + plot_w / 2}" y="{height - 2}" font-size="11" text-anchor="middle">{esc(label)}</text>'
            f'<text x="{left - 4}" y="{top + 8}" font-size="11" text-anchor="end">{peak}</text>')  # fmt: skip
    return (f'<svg class="plot" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
            f'{"".join(bars)}{zero}{axis}</svg>')


def card(title, caption, figures, compare=None):
    """One image's pictures: ``figures`` [(label, src)], ``compare`` (before src, after src, labels)."""
    parts = [f'<div class="card"><b>{esc(title)}</b> <span class="note">{esc(caption)}</span><br>']
    for label, src in figures:
        parts.append(f'<figure><img src="{esc(src)}" alt="{esc(label)}"><figcaption>{esc(label)}</figcaption></figure>')
    if compare:
        before, after, labels = compare
        parts.append(f'<figure><div class="compare"><img class="before" src="{esc(before)}" alt="before">'
                     f'<img class="after" src="{esc(after)}" alt="after">'
                     f'<input class="slider" type="range" min="0" max="100" value="50" aria-label="{esc(labels)}">'
                     f'</div><figcaption>{esc(labels)}</figcaption></figure>')  # fmt: skip
    parts.append("</div>")
    return "".join(parts)


def page(title, sections):
    """The whole document; ``sections`` are HTML fragments."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<link rel="icon" href="data:,"><title>{esc(title)}</title><style>{PAGE_STYLE}</style></head>'
        f"<body><h1>{esc(title)}</h1>{''.join(sections)}<script>{PAGE_SCRIPT}</script></body></html>\n"
    )
