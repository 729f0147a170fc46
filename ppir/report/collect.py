"""What an evaluation keeps for its report while it runs: the inputs' scores (``score_input``) and,
per set, the pictures of the ``worst`` images (lowest first metric) seen so far."""
import heapq
import itertools

import numpy as np

from ..utils.distributed import gather_from_all_ranks
from .pictures import crops, rgb3

WORST = 8


class ReportCollector:
    """Passed to ``evaluate_sets(observer=...)``; it calls :meth:`image` for every scored image."""

    def __init__(self, score_input=True, worst=WORST):
        self.score_input = bool(score_input)
        self.worst = int(worst)
        self.input_scores = {}  # set -> {name: {label: value}}
        self.pictures = {}  # set -> heap of (-score, order, name, crops)
        self.protocols = {}  # set -> Evaluator (for its labels and metric options)
        self._input_evaluators = {}
        self._order = itertools.count()

    def image(self, eval_set, name, item, restored, scores):
        set_name = eval_set.name
        if set_name not in self.protocols:
            self.protocols[set_name] = eval_set.evaluator()
            self._input_evaluators[set_name] = eval_set.evaluator()
        target = np.transpose(item["gt"][0], (1, 2, 0))
        lq = np.transpose(item["lq"][0], (1, 2, 0))
        lq3 = rgb3(lq)
        same_size = lq3.shape[:2] == target.shape[:2]
        if self.score_input and same_size:
            lq_scored = lq[:, :, : target.shape[2]]
            self.input_scores.setdefault(set_name, {})[name] = self._input_evaluators[set_name].update(
                lq_scored, target, name)
        score = next(iter(scores.values()))
        heap = self.pictures.setdefault(set_name, [])
        entry = (-score, next(self._order), name)
        if len(heap) < self.worst or entry[0] > heap[0][0]:
            images = {"restored": rgb3(restored), "target": rgb3(target)}
            if same_size:
                images["input"] = lq3
            pictures, _ = crops(images, rgb3(target), rgb3(restored))
            item_entry = entry + (pictures,)
            if len(heap) < self.worst:
                heapq.heappush(heap, item_entry)
            else:
                heapq.heapreplace(heap, item_entry)

    def gather(self):
        """Collect every process's input scores (a collective: every rank calls it after the
        evaluation); the pictures stay those of this process's share."""
        merged = {}
        for scores in gather_from_all_ranks(self.input_scores):
            for set_name, by_name in scores.items():
                merged.setdefault(set_name, {}).update(by_name)
        self.input_scores = merged

    def worst_images(self, set_name):
        """``[(name, score, {kind: uint8 crop})]``, worst first."""
        heap = self.pictures.get(set_name, [])
        return [(name, -negative, pictures) for negative, _, name, pictures in sorted(heap, reverse=True)]
