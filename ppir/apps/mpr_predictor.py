"""MPRNet photo restoration: deblurring, denoising, deraining.

Default weights are PaddleGAN's released ``MPR_<Task>.pdparams`` (downloaded once into the
cache); ``weight_path`` takes any file ``ppir.weights.load_weights`` reads (official ``.pth``,
PaddleGAN ``.pdparams``, ppir weights or checkpoints), including networks trained with other
widths: the widths are read from the weights' shapes (``ppir.archs.mprnet.config_from_weights``).
"""
from ..archs.model_index import released_models
from .base_predictor import BasePredictor


class MPRPredictor(BasePredictor):
    """``MPRPredictor(task, output_path='output_dir', weight_path=None, device=None, tile=None,
    tile_overlap=32, self_ensemble=False, backend='auto')``; ``task`` is Deblurring, Denoising or
    Deraining (any case). See ``Predictor`` for ``run``."""

    arch_name = family = "MPRNet"
    tasks = released_models("MPRNet")
