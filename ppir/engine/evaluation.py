"""Scoring a network on whole validation/test images under each benchmark's protocol.

Images go through the network one at a time at full size: reflect-padded on the bottom and right
to the architecture's ``size_multiple`` (as the official demo/test scripts do), then cropped back.
With several processes, each scores a contiguous share of the set (``DistributedBatchSampler``)
and ``Evaluator.summary`` combines the per-image scores, counting each image name once.
Only rank 0 writes files; restored images it must write (``save_all``, submissions) are gathered
to it image by image.
"""
import os

import numpy as np
import paddle
from paddle.io import DataLoader, DistributedBatchSampler, Subset

from ..archs.contract import contract_of, final_image
from ..data.bad_files import GuardedItems, SkippedFiles, check_batch, guarded_collate
from ..data.collate import collate_items
from ..data.dnd import DNDSubmissionWriter
from ..data.sidd import write_sidd_submission
from ..errors import ConfigError
from ..metrics import Evaluator
from ..utils.file_names import safe_file_name
from ..utils.image_io import from_float, write_image
from ..utils.padding import crop, pad_to_multiple
from . import builders
from .distributed import gather_from_all_ranks, is_main, rank, world_size


class EvalSet:
    """One named validation/test set: its dataset, protocol and options from the config."""

    def __init__(self, name, entry, section):
        self.name = name
        self.entry = entry
        dataset = builders.dataset(f"{section}.{name}.dataset", entry.get("dataset"))
        if entry.get("max_images"):
            dataset = Subset(dataset, list(range(min(entry["max_images"], len(dataset)))))
        self.dataset = dataset
        self.skip_bad_files = builders.skip_bad_files(entry.get("dataset"))
        self.skipped = SkippedFiles(f"{section}.{name}.dataset")
        self.protocol = entry.get("protocol")
        if self.protocol is None and entry.get("submission") is None:
            raise ConfigError(f"{section}.{name}: give a 'protocol' (how to score it) or a 'submission' format")

    def evaluator(self):
        return Evaluator(self.protocol) if self.protocol is not None else None


def build_eval_sets(datasets_cfg, section):
    return [EvalSet(name, entry, section) for name, entry in (datasets_cfg or {}).items()]


@paddle.no_grad()
def restore(net, lq):
    """The network's final output for NCHW ``lq`` (array or tensor) of any size, clipped to [0, 1]."""
    lq = lq.numpy() if isinstance(lq, paddle.Tensor) else np.asarray(lq)
    contract = contract_of(net)
    padded, (height, width) = pad_to_multiple(lq, contract.size_multiple)
    out = final_image(net(paddle.to_tensor(padded)))  # MPRNet: [final, stage2, stage1]
    return paddle.clip(crop(out, (height * contract.scale, width * contract.scale)), 0.0, 1.0)


def to_hwc(tensor):
    return np.transpose(tensor.numpy()[0], (1, 2, 0)).astype(np.float32)


class EvalResult:
    """``summaries`` ``{set: {metric: value}}`` (the same on every rank); ``samples``
    ``{set: [(name, uint8 HxWxC)]}`` from rank 0's share; ``files`` ``{set: path}`` of submissions."""

    def __init__(self):
        self.summaries, self.samples, self.files = {}, {}, {}
        self.per_image = {}  # with an observer: {set: [(name, {metric: value})]}, the images summaries average


def evaluate_sets(net, eval_sets, keep_samples=0, image_dir=None, submission_dir=".", observer=None):
    """Score ``net`` on every set and return an :class:`EvalResult`.

    Up to ``keep_samples`` restored images per set are kept for logging. With ``image_dir``, rank 0
    writes every restored image to ``image_dir/<set>/<name>.png``; sets with a ``submission``
    format get their result files in ``submission_dir/<set>/``. ``observer.image(set, name, item,
    restored, scores)`` sees every scored image (``ppir.report.ReportCollector``).
    """
    was_training = net.training
    net.eval()
    result = EvalResult()
    try:
        for eval_set in eval_sets:
            _evaluate_one(net, eval_set, keep_samples, image_dir, submission_dir, result, observer)
    finally:
        if was_training:
            net.train()
    return result


def _evaluate_one(net, eval_set, keep_samples, image_dir, submission_dir, result, observer=None):
    evaluator = eval_set.evaluator()
    submission = _SubmissionCollector(eval_set.entry.get("submission"), os.path.join(submission_dir, eval_set.name),
                                      eval_set.dataset)
    gather_images = bool(image_dir) or submission.active
    samples, written = [], set()
    for item in _loader(GuardedItems(eval_set.dataset, skip=eval_set.skip_bad_files)):
        if not check_batch(item, eval_set.skipped):
            continue
        name = item["name"][0]
        restored = to_hwc(restore(net, item["lq"]))
        if evaluator is not None:
            if "gt" not in item:
                raise ConfigError(f"{eval_set.name}: the dataset has no ground truth to score; remove 'protocol'")
            scores = evaluator.update(restored, to_hwc(item["gt"]), name)
            if observer is not None:
                observer.image(eval_set, name, item, restored, scores)
        if len(samples) < keep_samples:
            samples.append((name, from_float(restored)))
        if not gather_images:
            continue
        for other_name, image in gather_from_all_ranks((name, restored)):
            if not is_main() or other_name in written:  # the sampler repeats images to even out ranks
                continue
            written.add(other_name)
            if image_dir:
                file_name = safe_file_name(other_name) + ".png"
                write_image(os.path.join(image_dir, eval_set.name, file_name), from_float(image))
            submission.add(other_name, image)
    result.summaries[eval_set.name] = evaluator.summary() if evaluator is not None else {}
    if observer is not None and evaluator is not None:
        result.per_image[eval_set.name] = evaluator.per_image()
    result.samples[eval_set.name] = samples
    if submission.active and is_main():
        result.files[eval_set.name] = submission.close()


def _loader(dataset):
    sampler = DistributedBatchSampler(dataset, batch_size=1, num_replicas=world_size(), rank=rank(), shuffle=False)
    return DataLoader(dataset, batch_sampler=sampler, num_workers=0, collate_fn=guarded_collate(collate_items))


class _SubmissionCollector:
    """Routes restored images into a benchmark's result files (SIDD Idenoised.mat, DND per-image .mat)."""

    def __init__(self, kind, out_dir, dataset=None):
        self.kind = kind
        self.out_dir = out_dir
        # SIDD: the images x blocks the set holds, so a result missing trailing blocks is refused
        self.grid = tuple(dataset.shape[:2]) if kind == "sidd" and hasattr(dataset, "shape") else None
        self.active = kind is not None
        self.blocks = {}
        self.dnd = DNDSubmissionWriter(out_dir) if kind == "dnd" and is_main() else None

    def add(self, name, image):
        if self.kind == "sidd":
            self.blocks[name] = image
        elif self.kind == "dnd":
            self.dnd.add(name, image)

    def close(self):
        """Write what is left; returns where the result went."""
        if self.kind == "sidd":
            return write_sidd_submission(self.blocks, os.path.join(self.out_dir, "Idenoised.mat"), self.grid)
        self.dnd.close()
        return self.out_dir
