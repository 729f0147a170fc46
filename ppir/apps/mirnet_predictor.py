"""MIRNet (v1) photo restoration: real denoising, LOL and FiveK enhancement, RealSR x3 / x4.

The released v1 weights sit behind Google Drive links, which cannot be fetched by URL: download
the task's file (``ppir.archs.released.MIRNET_RELEASED`` names it and where it is published) and
pass it as ``weight_path``. Super-resolution works as for MIRNet-v2: the released models restore
at the target size, so the photo is first enlarged by the task's factor (``upscale=False`` for
photos that already are).
"""
from ..archs.model_index import released_models
from .base_predictor import BasePredictor


class MIRNetPredictor(BasePredictor):
    """``MIRNetPredictor(task, output_path='output_dir', weight_path=None, device=None, tile=None,
    tile_overlap=32, self_ensemble=False, backend='auto', upscale=None)``; ``task`` is one of
    real_denoising, enhancement_lol, enhancement_fivek, sr_x3, sr_x4 (any case)."""

    arch_name = "MIRNet"
    family = "MIRNet"
    tasks = released_models("MIRNet")
