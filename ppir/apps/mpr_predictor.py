"""MPRNet photo restoration: deblurring, denoising, deraining.

Default weights are PaddleGAN's released ``MPR_<Task>.pdparams`` (downloaded once into the
cache); ``weight_path`` takes any file ``ppir.weights.load_weights`` reads (official ``.pth``,
PaddleGAN ``.pdparams``, ppir weights or checkpoints), including networks trained with other
widths: the widths are read from the weights' shapes.
"""
from ..archs.mprnet import MPRNET_TASKS
from .base_predictor import BasePredictor, TaskSpec, has_bias, numbered_children

PADDLEGAN_MODELS = "https://paddlegan.bj.bcebos.com/models/"

# Peak memory of one forward pass per input pixel (bytes), measured with
# benchmarks/measure_memory.py at 256x256 -> 512x512 (slope of peak RSS), CPU, batch 1.
MPR_BYTES_PER_PIXEL = {
    "Deblurring": {"dygraph": 9000, "paddle-inference": 9000, "onnxruntime": 9000},
    "Denoising": {"dygraph": 8000, "paddle-inference": 8000, "onnxruntime": 8000},
    "Deraining": {"dygraph": 4000, "paddle-inference": 4000, "onnxruntime": 4000},
}


def _spec(task):
    return TaskSpec(
        arch={"name": "MPRNet", "task": task},
        url=f"{PADDLEGAN_MODELS}MPR_{task}.pdparams",
        filename=f"MPR_{task}.pdparams",
        bytes_per_pixel=MPR_BYTES_PER_PIXEL[task],
    )


class MPRPredictor(BasePredictor):
    """``MPRPredictor(task, output_path='output_dir', weight_path=None, device=None, tile=None,
    tile_overlap=32, self_ensemble=False, backend='auto')``; ``task`` is Deblurring, Denoising or
    Deraining (any case). See ``BasePredictor`` for ``run``."""

    family = "MPRNet"
    tasks = {task: _spec(task) for task in MPRNET_TASKS}

    @staticmethod
    def arch_from_weights(state):
        """MPRNet widths from the shapes in a state dict (official key names)."""
        try:
            first = state["shallow_feat1.0.weight"]
            n_feat, in_c, kernel_size = first.shape[0], first.shape[1], first.shape[2]
            level2 = state["stage1_encoder.encoder_level2.0.body.0.weight"].shape[0]
            orsnet = state["stage3_orsnet.orb1.body.0.body.0.weight"].shape[0]
            squeezed = state["shallow_feat1.1.CA.conv_du.0.weight"].shape[0]
            out_c = state["tail.weight"].shape[0]
        except (KeyError, AttributeError, IndexError):
            return {}  # not MPRNet-shaped: loading will say what does not match
        return {
            "in_c": int(in_c), "out_c": int(out_c), "n_feat": int(n_feat), "kernel_size": int(kernel_size),
            "scale_unetfeats": int(level2 - n_feat), "scale_orsnetfeats": int(orsnet - n_feat),
            "num_cab": numbered_children(state, "stage3_orsnet.orb1.body.") - 1,  # num_cab CABs + a conv
            "reduction": int(n_feat // squeezed), "bias": has_bias(state),
        }
