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
import cv2
import numpy as np

from ..archs.mirnet_v2 import DEFOCUS_TASK, MIRNETV2_RELEASE_URL, MIRNETV2_TASKS
from ..errors import ConfigError, ImageReadError
from ..utils.image_io import read_image
from . import inputs
from .base_predictor import BasePredictor, TaskSpec, has_bias, numbered_children
from .photo import split_photo

# Peak memory of one forward pass per input pixel (bytes), measured with
# benchmarks/measure_memory.py (slope of peak RSS between 128x128 and 256x256), CPU, batch 1.
MIRNETV2_BYTES_PER_PIXEL = {"dygraph": 6000, "paddle-inference": 6000, "onnxruntime": 6000}


def _spec(task):
    weights = MIRNETV2_TASKS[task]["weights"]
    return TaskSpec(
        arch={"name": "MIRNetV2", "task": task},
        url=MIRNETV2_RELEASE_URL + weights,
        filename=f"MIRNetv2_{weights}",
        bytes_per_pixel=MIRNETV2_BYTES_PER_PIXEL,
    )


def sr_factor(task):
    return int(task[len("sr_x"):]) if task.startswith("sr_x") else None


class MIRNetV2Predictor(BasePredictor):
    """``MIRNetV2Predictor(task, output_path='output_dir', weight_path=None, device=None,
    tile=None, tile_overlap=32, self_ensemble=False, backend='auto', upscale=None)``; ``task`` is
    one of ``MIRNETV2_TASKS``. See the module doc for super-resolution and defocus input."""

    family = "MIRNetV2"
    tasks = {task: _spec(task) for task in MIRNETV2_TASKS}

    def __init__(self, task, *args, upscale=None, **kwargs):
        factor = sr_factor(self.canonical_task(task))
        if upscale and not factor:
            raise ConfigError(f"upscale applies to the super-resolution tasks (sr_x2/3/4), not {task!r}")
        self.upscale = factor if factor and upscale in (None, True) else None
        super().__init__(task, *args, **kwargs)

    @property
    def dual_view(self):
        return self.task == DEFOCUS_TASK

    @staticmethod
    def arch_from_weights(state):
        """MIRNetV2 widths from the shapes in a state dict (official key names)."""
        try:
            first = state["conv_in.weight"]
            n_feat, inp_channels = first.shape[0], first.shape[1]
            out_channels = state["conv_out.weight"].shape[0]
            mid = state["body.0.body.0.dau_mid.body.0.weight"].shape[0]
        except (KeyError, AttributeError, IndexError):
            return {}  # not MIRNetV2-shaped: loading will say what does not match
        return {
            "inp_channels": int(inp_channels), "out_channels": int(out_channels), "n_feat": int(n_feat),
            "chan_factor": float(mid) / float(n_feat),
            "n_MRB": numbered_children(state, "body.0.body.") - 1,  # an RRG is n_MRB MRBs and a conv
            "bias": has_bias(state),
        }

    # ----- inputs ---------------------------------------------------------------------------
    def collect(self, sources):
        if not self.dual_view:
            return super().collect(sources)
        pairs, failures = inputs.expand_pairs(sources)
        return self._jobs(pairs), failures

    def read_job_input(self, item):
        if not self.dual_view:
            return super().read_job_input(item)
        left, right = (read_image(path) for path in item)
        if left.shape[:2] != right.shape[:2]:
            raise ImageReadError(f"{item[0]} and {item[1]}: views differ in size ({left.shape[:2]} vs {right.shape[:2]})")
        return left, right

    def is_array_input(self, sources):
        if self.dual_view:
            return isinstance(sources, tuple) and len(sources) == 2 and all(
                isinstance(s, np.ndarray) for s in sources)
        return super().is_array_input(sources)

    def prepare(self, image):
        if self.dual_view:
            return self._prepare_pair(image)
        rgb, photo = super().prepare(image)
        if self.upscale:
            rgb, photo = self._enlarge(rgb, photo)
        return rgb, photo

    def _prepare_pair(self, pair):
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ImageReadError("defocus_deblurring takes a (left, right) pair of views")
        left, right = (split_photo(view, name) for view, name in zip(pair, ("left view", "right view")))
        if left.rgb.shape != right.rgb.shape:
            raise ImageReadError(
                f"left and right views differ in size: {left.rgb.shape[:2]} vs {right.rgb.shape[:2]}")
        return np.concatenate([left.rgb, right.rgb], axis=2), left

    def _enlarge(self, rgb, photo):
        height, width = rgb.shape[:2]
        size = (width * self.upscale, height * self.upscale)
        rgb = np.clip(cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC), 0.0, 1.0)
        if photo.alpha is not None:
            photo.alpha = cv2.resize(photo.alpha[:, :, 0], size, interpolation=cv2.INTER_CUBIC)[:, :, None]
        return rgb, photo
