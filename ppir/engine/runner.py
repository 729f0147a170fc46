"""The two things ``tools/main.py`` does with a config: train (or resume) a run, or evaluate weights."""
import json
import os

from ..errors import ConfigError, PpirError
from ..report import ReportCollector, published_numbers, write_evaluation_report
from ..utils.atomic import write_json_atomic
from ..utils.device import select_device
from ..utils.places import check_writable_folder
from ..weights import load_weights
from . import builders
from .checkpoint import CheckpointFolder, resolve_resume
from .config import dump_config
from .distributed import barrier, init_distributed, is_main, world_size
from .evaluation import build_eval_sets, evaluate_sets
from .finetune import prepare_training, record_holdout, widths_for_evaluation
from .rng import seed_everything
from .trainer import Trainer


def run_dir_of(cfg):
    return os.path.join(cfg["output_dir"], cfg["name"])


def train(cfg, resume=None, load=None):
    """Train ``cfg`` in ``<output_dir>/<name>/``; ``resume`` is a checkpoint path or 'auto'."""
    run_dir = check_writable_folder(run_dir_of(cfg), "run folder")  # before any work
    device = select_device(cfg["device"])
    init_distributed()
    path = resolve_resume(resume, CheckpointFolder(os.path.join(run_dir, "checkpoints"), 1))
    prep = prepare_training(cfg, path, load)  # released weights, widths, data check, held-out pairs
    load = prep.load
    trainer = Trainer(cfg, run_dir, device)
    note = " (--resume auto: no checkpoint yet, starting from scratch)" if resume == "auto" and not path else ""
    if path:
        note = f" (resumed from {path})"
        trainer.resume(path)
    elif load:
        trainer.load_weights(load)
        note = f" (initialised from {load})"
    if is_main():
        dump_config(cfg, os.path.join(run_dir, "config.yaml"))
    barrier()
    trainer.train(note + prep.note())
    best_scores = report_best_weights(cfg, trainer) if cfg["val"]["report"] and trainer.val_sets else None
    if is_main() and prep.holdout:
        record_holdout(os.path.join(run_dir, "metrics.json"), prep.holdout, best_scores)
    return trainer


def report_best_weights(cfg, trainer):
    """``val.report``: the best weights (else the final ones) scored again on the val sets, with
    ``<run>/report/`` written and their scores added to ``metrics.json`` under ``report``."""
    weights = os.path.join(trainer.run_dir, "weights", "best.pdparams")
    if not os.path.exists(weights):
        weights = os.path.join(trainer.run_dir, "weights", "final.pdparams")
    net = builders.network(cfg)
    load_weights(net, weights)
    collector = ReportCollector(score_input=True)
    result = evaluate_sets(net, trainer.val_sets, observer=collector)
    collector.gather()
    if is_main():
        page = write_evaluation_report(os.path.join(trainer.run_dir, "report"), result, collector,
                                       published_numbers(cfg["arch"], result.summaries), f"{cfg['name']}: {weights}")
        metrics_path = os.path.join(trainer.run_dir, "metrics.json")
        with open(metrics_path, encoding="utf-8") as f:
            metrics = json.load(f)
        metrics["report"] = {"weights": weights, "scores": result.summaries}
        write_json_atomic(metrics_path, metrics)
        print(f"report: {page} ({os.path.basename(weights)})", flush=True)
    return result.summaries


def evaluate(cfg, load, save_images=False, report=False):
    """Score ``load`` on every validation and test set of ``cfg``; writes ``<output_dir>/metrics.json``.

    No training data is built. Returns ``{set: {metric: value}}``.
    """
    if not load:  # a missing flag, not a config mistake
        raise PpirError("--evaluate-only needs --load <weights file> (official .pth, .pdparams or a ppir checkpoint)")
    check_writable_folder(cfg["output_dir"], "output folder")  # before any network is built
    device = select_device(cfg["device"])
    init_distributed()
    seed_everything(cfg["seed"])
    sets = {**cfg["val"]["datasets"], **cfg["test"]["datasets"]}
    if not sets:
        raise ConfigError("the config has no val.datasets or test.datasets to evaluate")
    widths_for_evaluation(cfg, load)  # fine-tune configs: the widths of the weights evaluated
    net = builders.network(cfg)
    load_weights(net, load)
    out_dir = cfg["output_dir"]
    image_dir = out_dir if (save_images or cfg["test"]["save_images"]) else None
    test_sets = cfg["test"]["datasets"]
    val_only = {name: entry for name, entry in cfg["val"]["datasets"].items() if name not in test_sets}
    eval_sets = build_eval_sets(val_only, "val.datasets") + build_eval_sets(test_sets, "test.datasets")
    collector = ReportCollector(score_input=cfg["val"]["score_input"]) if report else None
    result = evaluate_sets(net, eval_sets, image_dir=image_dir, submission_dir=out_dir, observer=collector)
    if collector is not None:
        collector.gather()
    if is_main():
        for eval_set in eval_sets:
            if eval_set.skipped.summary():
                print(eval_set.skipped.summary())
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "metrics.json"), "w", encoding="utf-8") as f:
            json.dump(result.summaries, f, indent=2)
        print(format_table(result.summaries))
        for set_name, path in result.files.items():
            print(f"{set_name}: submission files in {path}")
        print(f"metrics: {os.path.join(out_dir, 'metrics.json')} ({device}, {world_size()} process(es))")
        if collector is not None:
            page = write_evaluation_report(os.path.join(out_dir, "report"), result, collector,
                                           published_numbers(cfg["arch"], result.summaries), f"{cfg['name']}: {load}")
            print(f"report: {page}")
    return result.summaries


def format_table(summaries):
    metrics = list(dict.fromkeys(m for scores in summaries.values() for m in scores))
    width = max([len("dataset")] + [len(s) for s in summaries])
    rows = [f"{'dataset':<{width}}  " + "  ".join(f"{m:>10}" for m in metrics)]
    for set_name, scores in summaries.items():
        cells = [f"{scores[m]:>10.4f}" if m in scores else f"{'-':>10}" for m in metrics]
        rows.append(f"{set_name:<{width}}  " + "  ".join(cells))
    return "\n".join(rows)
