"""Training losses (``ppir.registry.LOSSES``): CharbonnierLoss, EdgeLoss, L1Loss, MultiStageLoss.

``build_loss({'name': ..., **options})`` returns a ``paddle.nn.Layer`` called as ``loss(pred, gt)``.
"""
from .builder import build_loss
from .charbonnier import CharbonnierLoss, charbonnier
from .edge import EdgeLoss, laplacian_detail
from .l1 import L1Loss
from .multi_stage import MultiStageLoss

__all__ = ["CharbonnierLoss", "EdgeLoss", "L1Loss", "MultiStageLoss", "build_loss", "charbonnier", "laplacian_detail"]
