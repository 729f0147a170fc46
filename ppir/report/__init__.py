"""Per-image reports of an evaluation (``per_image.csv`` + a self-contained ``index.html``) and of
restored photos (the apps' ``--report``). See docs/evaluation.md."""
from .collect import ReportCollector
from .evaluation_report import published_numbers, write_evaluation_report

__all__ = ["ReportCollector", "published_numbers", "write_evaluation_report"]
