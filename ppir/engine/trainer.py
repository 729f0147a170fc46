"""The training loop: iterations, validation, best/last checkpoints, exact resume, Ctrl-C.

One iteration = one global batch = one optimizer step. Everything random that happens in the loop
(MixUp, progressive re-crops) draws from a generator seeded by (run seed, iteration, rank), and
the data order is a function of (seed, position) (see ``sampler.py``); the learning rate is a
function of the iteration (``schedulers.py``). A checkpoint therefore only needs the weights,
optimizer/EMA/AMP state, the iteration and the generators' states to continue exactly as an
uninterrupted run would.
"""
import contextlib
import json
import math
import os
import signal
import time

import numpy as np
import paddle
from paddle.io import DataLoader

from ..data import ProgressiveSchedule, mixup, recrop_batch
from ..data.bad_files import GuardedItems, SkippedFiles, check_batch, guarded_collate
from ..data.collate import collate_items
from ..errors import ConfigError, PpirError
from ..utils.device import is_gpu
from ..utils.file_names import safe_file_name
from ..utils.image_io import write_image
from ..utils.orphans import die_with_parent
from ..weights import load_weights, save_weights
from ..weights.digest import weights_digest
from . import builders
from .checkpoint import (
    CheckpointFolder, optimizer_state_from_portable, optimizer_state_to_portable, read_checkpoint,
)  # fmt: skip
from .distributed import any_rank, gather_from_all_ranks, is_main, rank, world_size
from .ema import EMA
from .evaluation import build_eval_sets, evaluate_sets
from .rng import capture_rng_state, derived_seed, restore_rng_state, seed_everything
from .run_log import RunLog
from .sampler import ResumableBatchSampler, SeededItems
from .schedulers import build_lr_schedule


class TrainingDiverged(PpirError):
    """The loss became NaN or infinite."""


def check_best_metric(key, val_sets):
    """``val.best_metric`` must name a score validation will produce: checked before training,
    so a typo is not found only at the first validation, after that work is done."""
    if not key:
        return
    known = [f"{s.name}/{label}" for s in val_sets if s.protocol is not None for label in s.evaluator().labels]
    if key not in known:
        raise ConfigError(f"val.best_metric {key!r} is not among the validation scores {known}")


class Trainer:
    def __init__(self, cfg, run_dir, device="cpu"):
        self.cfg = cfg
        self.run_dir = run_dir
        self.device = device
        train = cfg["train"]
        seed_everything(cfg["seed"])
        self.net = builders.network(cfg)
        self.loss_fn = builders.loss(cfg)
        self.schedule = build_lr_schedule(train["lr_schedule"])
        self.base_lr = train["optimizer"]["lr"]
        self.optimizer = builders.optimizer(cfg, self.net.parameters())
        self.amp = _AmpSetup(train, device)
        self.net, self.optimizer = self.amp.decorate(self.net, self.optimizer)
        self.model = paddle.DataParallel(self.net) if world_size() > 1 else self.net
        self.ema = EMA(self.net, train["ema_decay"]) if train["ema_decay"] else None
        self.train_set = builders.training_set(cfg)
        self.skipped = SkippedFiles("train.dataset")
        self.val_sets = build_eval_sets(cfg["val"]["datasets"], "val.datasets")
        check_best_metric(cfg["val"]["best_metric"], self.val_sets)
        self.progressive = _progressive(train, world_size())
        self.checkpoints = CheckpointFolder(os.path.join(run_dir, "checkpoints"), cfg["checkpoint"]["keep_last"])
        self.total_iters = train["total_iters"]
        self.iteration = 0
        self.lr = self.schedule(0, self.base_lr)
        self.best = {"metric": cfg["val"]["best_metric"], "value": None, "iteration": None}
        self.last_scores = {}
        self.input_scores = None
        self.stop_requested = False
        self.log = None

    # --- state ---------------------------------------------------------------------------------

    def state(self):
        sampler = self._sampler(0)
        epoch, within = sampler.position(self.iteration)
        return {
            "format": "ppir training checkpoint",
            "iteration": self.iteration,
            "data_position": {"epoch": epoch, "batch_in_epoch": within, "batches_per_epoch": sampler.batches_per_epoch},
            "model": self.net.state_dict(),
            "ema": self.ema.state_dict() if self.ema else None,
            "optimizer": optimizer_state_to_portable(self.optimizer.state_dict(), self.net),
            "scaler": self.amp.scaler.state_dict() if self.amp.scaler else None,
            "rng": capture_rng_state(),
            "best": dict(self.best),
            "lr": self.lr,
            "config": self.cfg,
        }

    def resume(self, path):
        state = read_checkpoint(path)
        load_weights(self.net, state["model"], source=f"checkpoint {path}")
        if self.ema is not None and state.get("ema"):
            self.ema.set_state_dict(state["ema"])
        self.optimizer.set_state_dict(optimizer_state_from_portable(state["optimizer"], self.net))
        if self.amp.scaler is not None and state.get("scaler"):
            self.amp.scaler.load_state_dict(state["scaler"])
        restore_rng_state(state["rng"])
        self.iteration = int(state["iteration"])
        self.best = dict(state.get("best") or self.best)
        return self.iteration

    def load_weights(self, path):
        load_weights(self.net, path)

    # --- the loop ------------------------------------------------------------------------------

    def train(self, start_note=""):
        cfg = self.cfg
        self.log = RunLog(
            self.run_dir, self.total_iters, self.iteration, cfg["log"]["progress_bar"],
            cfg["log"]["enable_visualdl"], enabled=is_main(),
        )  # fmt: skip
        for skipped in [self.skipped] + [s.skipped for s in self.val_sets]:
            skipped.write = self.log.line
        started, first_iter = time.time(), self.iteration
        self.log.line(
            f"training {cfg['name']}: {type(self.net).__name__}, {len(self.train_set)} training samples, "
            f"global batch {cfg['train']['batch_size']} over {world_size()} process(es), "
            f"iterations {self.iteration} -> {self.total_iters}{start_note}"
        )
        if self.amp.enabled and not self.amp.gpu:
            self.log.line("note: AMP needs a GPU; on the CPU Paddle keeps float32 and the loss scaler is idle")
        if cfg["val"]["score_input"] and self.val_sets:
            self.input_scores = evaluate_sets(_Identity(), self.val_sets).summaries
            self.log.line(f"input (unrestored) scores: {_format_scores(self.input_scores)}")
        batches = iter(self._loader(self.iteration))
        with _StopOnSigint(self):
            while self.iteration < self.total_iters:
                batch = next(batches)
                check_batch(batch, self.skipped)
                loss = self._step(batch)
                self.iteration += 1
                self._after_step(loss)
                if self.stop_requested:
                    path = self.save_checkpoint()
                    self.log.line(f"interrupted at iteration {self.iteration}; checkpoint {path}")
                    raise KeyboardInterrupt
        if not self._due(cfg["val"]["interval"]) and self.val_sets:
            self.validate()
        if not self._due(cfg["checkpoint"]["interval"]):
            self.save_checkpoint()
        final = self._save_weights("final.pdparams")
        if world_size() > 1:
            self._check_ranks_agree()
        self._finish(time.time() - started, self.iteration - first_iter, final)

    def _step(self, batch):
        lq, gt = _tensor(batch["lq"]), _tensor(batch["gt"])
        rng = np.random.RandomState(derived_seed(self.cfg["seed"], self.iteration, rank(), 0xB47C))
        if self.progressive is not None:
            patch, batch_size = self.progressive(self.iteration + 1)
            lq, gt = recrop_batch(lq, gt, patch, batch_size // world_size(), rng)
        mix = self.cfg["train"]["mixup"]
        if mix["start_iter"] is not None and self.iteration >= mix["start_iter"]:
            lq, gt = mixup(lq, gt, preset=mix["preset"], beta=mix["beta"], per_sample=mix["per_sample"],
                           prob=mix["prob"], rng=rng)  # fmt: skip
        self.lr = self.schedule(self.iteration, self.base_lr)
        self.optimizer.set_lr(self.lr)
        value = 0.0
        for lq_part, gt_part, weight in micro_batches(lq, gt, self.cfg["train"]["micro_batches"]):
            with self.amp.autocast():
                loss = self.loss_fn(self.model(lq_part), gt_part)
            loss = loss if weight == 1 else loss * weight
            part = float(loss)
            diverged, self.stop_requested = any_rank([not math.isfinite(part), self.stop_requested])
            if diverged:
                raise self._diverged(part)
            self.amp.backward(loss)
            value += part
        self.amp.step(self.optimizer)
        self.optimizer.clear_grad(set_to_zero=False)
        if self.ema is not None:
            self.ema.update()
        return value

    def _after_step(self, loss):
        cfg = self.cfg
        self.log.step(self.iteration, loss, self.lr)
        if self._due(cfg["log"]["interval"]):
            self.log.line(f"iter {self.iteration}/{self.total_iters} loss {loss:.6g} lr {self.lr:.4g}")
            self.log.scalars({"train/loss": loss, "train/lr": self.lr}, self.iteration)
        if self.val_sets and self._due(cfg["val"]["interval"]):
            self.validate()
        if self._due(cfg["checkpoint"]["interval"]):
            self.save_checkpoint()

    def _due(self, interval):
        return bool(interval) and self.iteration % interval == 0

    def _loader(self, start_batch):
        skip = builders.skip_bad_files(self.cfg["train"]["dataset"])
        return DataLoader(
            GuardedItems(SeededItems(self.train_set), skip=skip, substitute=_NextItem(len(self.train_set))),
            batch_sampler=self._sampler(start_batch),
            num_workers=self.cfg["train"]["num_workers"],
            collate_fn=guarded_collate(collate_items),
            worker_init_fn=die_with_parent,
        )

    def _sampler(self, start_batch):
        return ResumableBatchSampler(
            len(self.train_set), self.cfg["train"]["batch_size"], self.cfg["seed"], rank(), world_size(), start_batch
        )

    def _diverged(self, value):
        latest = self.checkpoints.latest()
        kept = f"the last good checkpoint is {latest}" if latest else "no checkpoint was written before it"
        return TrainingDiverged(
            f"loss became {value} at iteration {self.iteration + 1}; stopped before the update, {kept}. "
            "Lower train.optimizer.lr, set train.grad_clip_norm, or check the training data"
        )

    # --- validation and saving -----------------------------------------------------------------

    def validate(self):
        keep = self.cfg["val"]["save_images"]
        with self.ema.applied() if self.ema else contextlib.nullcontext():
            result = evaluate_sets(self.net, self.val_sets, keep_samples=keep)
        self.last_scores = result.summaries
        if self.log is not None:
            self.log.line(f"validation at iter {self.iteration}: {_format_scores(result.summaries)}")
            self.log.scalars(
                {f"val/{s}/{m}": v for s, scores in result.summaries.items() for m, v in scores.items()}, self.iteration
            )
        if is_main():
            self._save_samples(result.samples)
        self._track_best(result.summaries)
        return result.summaries

    def _save_samples(self, samples):
        folder = os.path.join(self.run_dir, "samples", f"iter_{self.iteration:09d}")
        for set_name, images in samples.items():
            for name, image in images:
                write_image(os.path.join(folder, set_name, safe_file_name(name) + ".png"), image)
            self.log.images([(f"{set_name}/{name}", image) for name, image in images], self.iteration)

    def _track_best(self, summaries):
        key = self.cfg["val"]["best_metric"]
        if not key:
            return
        set_name, _, metric = key.partition("/")
        if set_name not in summaries or metric not in summaries[set_name]:
            known = [f"{s}/{m}" for s, scores in summaries.items() for m in scores]
            raise ConfigError(f"val.best_metric {key!r} is not among the validation scores {known}")
        value = summaries[set_name][metric]
        better = max if self.cfg["val"]["best_mode"] == "max" else min
        if self.best["value"] is None or (value != self.best["value"] and better(value, self.best["value"]) == value):
            self.best.update(value=value, iteration=self.iteration)
            path = self._save_weights("best.pdparams")
            if is_main():
                with open(os.path.join(self.run_dir, "weights", "best.json"), "w", encoding="utf-8") as f:
                    json.dump(self.best, f, indent=2)
                self.log.line(f"new best {key} = {value:.4f} at iteration {self.iteration}: {path}")

    def save_checkpoint(self):
        """Write a resumable checkpoint (rank 0) and return its path."""
        path = self.checkpoints.path_for(self.iteration)
        if is_main():
            self.checkpoints.save(self.state(), self.iteration)
        return path

    def _save_weights(self, file_name):
        """Release weights (the EMA ones when EMA is on) as a plain .pdparams."""
        path = os.path.join(self.run_dir, "weights", file_name)
        if is_main():
            with self.ema.applied() if self.ema else contextlib.nullcontext():
                save_weights(self.net, path)
        return path

    def _check_ranks_agree(self):
        """Data-parallel replicas must end with the same weights; say so (each rank prints its digest)."""
        digest = weights_digest(self.net)[:16]
        print(f"rank {rank()}: final weights sha256 {digest}", flush=True)
        digests = gather_from_all_ranks(digest)
        if len(set(digests)) == 1:
            self.log.line(f"final weights identical on all {len(digests)} processes (sha256 {digest})")
        else:
            self.log.line(f"WARNING: final weights differ between processes: {digests}")

    def _finish(self, seconds, iterations, final_path):
        if not is_main():
            return
        scores = {"iterations": self.iteration, "input": self.input_scores, "last": self.last_scores, "best": self.best}
        with open(os.path.join(self.run_dir, "metrics.json"), "w", encoding="utf-8") as f:
            json.dump(scores, f, indent=2)
        self.log.close()
        lines = [f"done: {iterations} iterations in {_duration(seconds)}"]
        if iterations != self.iteration:
            lines[0] += f" (resumed; {self.iteration} in total)"
        for set_name, restored in self.last_scores.items():
            before = (self.input_scores or {}).get(set_name, {})
            for metric, value in restored.items():
                if metric in before:
                    lines.append(
                        f"{set_name} {metric}: input {before[metric]:.2f} -> restored {value:.2f} "
                        f"({value - before[metric]:+.2f})"
                    )
                else:
                    lines.append(f"{set_name} {metric}: {value:.4f}")
        lines.append(f"weights: {final_path}")
        if self.best["iteration"] is not None:
            lines.append(f"best weights: {os.path.join(self.run_dir, 'weights', 'best.pdparams')} "
                         f"({self.best['metric']} {self.best['value']:.4f} at iteration {self.best['iteration']})")
        lines += [s.summary() for s in [self.skipped] + [s.skipped for s in self.val_sets] if s.summary()]
        lines.append(f"log: {os.path.join(self.run_dir, 'train.log')}")
        print("\n".join(lines), flush=True)


class _AmpSetup:
    """``train.amp``: Paddle's auto_cast + GradScaler (O1), or fp16 weights with fp32 masters (O2)."""

    def __init__(self, train, device):
        self.enabled = bool(train["amp"])
        self.level = train["amp_level"]
        self.scaler = paddle.amp.GradScaler(init_loss_scaling=2.0**16) if self.enabled else None
        self.gpu = is_gpu(device)

    def decorate(self, net, optimizer):
        if self.enabled and self.level == "O2" and self.gpu:
            net, optimizer = paddle.amp.decorate(models=net, optimizers=optimizer, level="O2", save_dtype="float32")
        return net, optimizer

    def autocast(self):
        if not self.enabled:
            return contextlib.nullcontext()
        return paddle.amp.auto_cast(enable=True, level=self.level)

    def backward(self, loss):
        (loss if self.scaler is None else self.scaler.scale(loss)).backward()

    def step(self, optimizer):
        if self.scaler is None:
            optimizer.step()
            return
        self.scaler.step(optimizer)
        self.scaler.update()


class _NextItem:
    """With ``skip_bad_files``: the key of the item read in place of a bad one (the next index,
    same seed)."""

    def __init__(self, count):
        self.count = count

    def __call__(self, key, attempt):
        index, seed = key
        return ((index + 1) % self.count, seed)


def micro_batches(lq, gt, parts):
    """``train.micro_batches`` (gradient accumulation): the batch cut into ``parts`` slices run one
    after another, each with the weight (its share of the batch) that makes the summed gradients
    those of the whole batch: the step of ``batch_size`` in the memory of a slice."""
    total = lq.shape[0]
    parts = max(1, min(int(parts), total))
    if parts == 1:
        return [(lq, gt, 1)]
    bounds = [round(i * total / parts) for i in range(parts + 1)]
    return [(lq[a:b], gt[a:b], (b - a) / total) for a, b in zip(bounds, bounds[1:])]


class _Identity(paddle.nn.Layer):
    """Returns its input (the first 3 channels: the left view of a dual-pixel pair), so that scoring
    it gives the unrestored input's quality (``val.score_input``). Its contract: it takes any
    number of channels (3 is what it keeps), at any size."""

    in_channels = out_channels = 3
    size_multiple = scale = 1

    def forward(self, x):
        return x[:, :3]


class _StopOnSigint:
    """First Ctrl-C: finish the iteration, save a checkpoint, stop. Second Ctrl-C: stop at once."""

    def __init__(self, trainer):
        self.trainer = trainer

    def __enter__(self):
        self.previous = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame):
        self.trainer.stop_requested = True
        signal.signal(signal.SIGINT, self.previous)

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous)
        return False


def _progressive(train, processes):
    spec = train["progressive"]
    if not spec["iters"]:
        return None
    sizes = spec["batch_sizes"]
    if max(sizes) > train["batch_size"]:
        raise ConfigError(f"train.progressive.batch_sizes {sizes} exceed train.batch_size {train['batch_size']}")
    if any(size % processes for size in sizes):
        raise ConfigError(f"train.progressive.batch_sizes {sizes} must divide evenly over {processes} processes")
    return ProgressiveSchedule(spec["iters"], spec["patch_sizes"], spec["batch_sizes"])


def _tensor(value):
    return value if isinstance(value, paddle.Tensor) else paddle.to_tensor(value)


def _format_scores(summaries):
    return "; ".join(
        f"{s}: " + ", ".join(f"{m} {v:.4f}" for m, v in scores.items()) for s, scores in summaries.items()
    )


def _duration(seconds):
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes}m{seconds:02d}s"
