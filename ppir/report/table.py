"""``per_image.csv``: one row per image per dataset with every protocol metric, the input's scores
and the gain; the protocol of each dataset in ``#`` lines above the header
(``pandas.read_csv(path, comment='#')`` reads it). Values are written with Python's ``repr``, which
reads back to the same float, so the column means equal ``metrics.json`` exactly."""
import csv
import io
import math

from ..utils.atomic import write_text_atomic


def protocol_line(set_name, evaluator):
    protocol = evaluator.protocol
    quantize = "8-bit (rounded like the PNGs the official script read)" if evaluator.quantize else "float [0, 1]"
    metrics = "; ".join(repr(metric) for metric in evaluator.metrics)
    return f"# {set_name}: protocol {protocol.name} - scored on {quantize} - {metrics} - reproduces {protocol.reproduces}"


def rows_of(set_name, records, labels, input_scores):
    """Row dicts of one set: metrics, ``input_<m>`` and ``gain_<m>`` where the input was scored."""
    rows = []
    for name, values in records:
        row = {"dataset": set_name, "name": name, **{label: values[label] for label in labels}}
        before = input_scores.get(name)
        if before:
            for label in labels:
                row[f"input_{label}"] = before[label]
                row[f"gain_{label}"] = values[label] - before[label]
        rows.append(row)
    return rows


def columns_of(rows):
    columns = ["dataset", "name"]
    for row in rows:
        columns += [key for key in row if key not in columns]
    plain = [c for c in columns[2:] if not c.startswith(("input_", "gain_"))]
    before = [c for c in columns if c.startswith("input_")]
    gains = [c for c in columns if c.startswith("gain_")]
    return ["dataset", "name", *plain, *before, *gains]


def write_csv(path, rows, comment_lines):
    buffer = io.StringIO()
    for line in comment_lines:
        buffer.write(line + "\n")
    columns = columns_of(rows)
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(row.get(key)) for key in columns})
    return write_text_atomic(path, buffer.getvalue())


def _cell(value):
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return "" if value is None else value
