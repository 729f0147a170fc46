"""Training and evaluation: configs (YAML + ``_base_`` + ``-o``), the iteration-based trainer with
exact resume, learning-rate schedules, full-image evaluation, distributed runs.

Command line: ``tools/main.py`` (``ppir.engine.cli.main``); see docs/training.md.
"""
from .config import dump_config, load_config
from .evaluation import build_eval_sets, evaluate_sets, restore
from .runner import evaluate, train
from .schedulers import SCHEDULES, build_lr_schedule
from .trainer import Trainer, TrainingDiverged

__all__ = [
    "SCHEDULES", "Trainer", "TrainingDiverged", "build_eval_sets", "build_lr_schedule", "dump_config",
    "evaluate", "evaluate_sets", "load_config", "restore", "train",
]  # fmt: skip
