"""MIRNet-v2 photo restoration: real denoising, low-light / FiveK enhancement, real-world
super-resolution (x2, x3, x4) and dual-pixel defocus deblurring.

Default weights are the official release assets (``.pth``, read without torch and converted on
load), downloaded once into the cache.

Super-resolution: the released models restore an image that is already at the target size (the
RealSR v1 protocol, where low-resolution photos were enlarged to the high-resolution size), so
they output the size they are given. With ``upscale=True`` (the default for ``sr_x*`` tasks) the
predictor first enlarges the photo by the task's factor (bicubic), so a small photo comes back
``factor`` times larger; pass ``upscale=False`` for photos that are already enlarged.

Defocus deblurring takes the two dual-pixel views: ``run((left, right))`` with two files, two
folders (matched by file name) or two arrays, or ``run(folder)`` for a folder holding ``inputL/``
and ``inputR/`` (the DPDD layout). The DPDD photos are 16 bit, and so are the results.
"""
from ..archs.model_index import released_models
from .base_predictor import BasePredictor


class MIRNetV2Predictor(BasePredictor):
    """``MIRNetV2Predictor(task, output_path='output_dir', weight_path=None, device=None,
    tile=None, tile_overlap=32, self_ensemble=False, backend='auto', upscale=None)``; ``task`` is
    one of ``MIRNETV2_TASKS``. See the module doc for super-resolution and defocus input."""

    arch_name = family = "MIRNetV2"
    tasks = released_models("MIRNetV2")
