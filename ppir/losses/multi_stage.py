"""Weighted sum of pixel losses over every output of a multi-stage network (MPRNet's three)."""
import paddle

from ..errors import ConfigError
from ..registry import LOSSES
from .builder import build_loss


@LOSSES.register()
class MultiStageLoss(paddle.nn.Layer):
    """``sum_s stage_weight[s] * sum_l weight[l] * loss_l(pred[s], gt)``.

    ``losses``: configs of registered losses with an optional ``weight`` (default 1), e.g. MPRNet
    deblurring/deraining ``[{'name': 'CharbonnierLoss', 'weight': 1.0}, {'name': 'EdgeLoss',
    'weight': 0.05}]``. ``pred`` is a list of stage outputs or a single tensor; stages count
    equally unless ``stage_weights`` says otherwise. ``clamp_output`` clamps predictions to [0, 1]
    before the losses (MPRNet denoising, MIRNet).

    ``forward`` returns the total; ``last_components`` then holds the detached weighted share of
    each loss summed over stages, ``{loss name: scalar tensor}``, which adds up to the total.
    """

    def __init__(self, losses=({"name": "CharbonnierLoss", "weight": 1.0}, {"name": "EdgeLoss", "weight": 0.05}),
                 stage_weights=None, clamp_output=False):
        super().__init__()
        self.weights = []
        self.labels = []
        terms = []
        for cfg in losses:
            cfg = dict(cfg)
            self.weights.append(float(cfg.pop("weight", 1.0)))
            self.labels.append(cfg.get("label") or cfg.get("name"))
            cfg.pop("label", None)
            terms.append(build_loss(cfg))
        if not terms:
            raise ConfigError("MultiStageLoss: 'losses' is empty")
        if len(set(self.labels)) != len(self.labels):
            raise ConfigError(f"MultiStageLoss: repeated loss names {self.labels}; give each a 'label'")
        self.terms = paddle.nn.LayerList(terms)
        self.stage_weights = None if stage_weights is None else [float(w) for w in stage_weights]
        self.clamp_output = bool(clamp_output)
        self.last_components = {}

    def forward(self, pred, target):
        stages = list(pred) if isinstance(pred, (list, tuple)) else [pred]
        stage_weights = self.stage_weights or [1.0] * len(stages)
        if len(stage_weights) != len(stages):
            raise ValueError(f"MultiStageLoss: {len(stages)} outputs but {len(stage_weights)} stage_weights")
        shares = [0.0] * len(self.terms)
        for stage_weight, out in zip(stage_weights, stages):
            if self.clamp_output:
                out = paddle.clip(out, 0.0, 1.0)
            for i, (weight, term) in enumerate(zip(self.weights, self.terms)):
                shares[i] = shares[i] + stage_weight * weight * term(out, target)
        self.last_components = {label: share.detach() for label, share in zip(self.labels, shares)}
        return sum(shares[1:], shares[0])
