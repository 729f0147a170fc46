"""Photo restoration apps: predictors that take files, folders or arrays of any size and bit
depth and write restored PNGs. ``Predictor(arch, task)`` runs any network that meets the contract
(``ppir.archs.contract``); ``MPRPredictor`` (MPRNet), ``MIRNetV2Predictor`` (MIRNet-v2) and
``MIRNetPredictor`` (MIRNet v1) are it with the architecture fixed."""
from ..archs.model_index import ReleasedModel as TaskSpec
from .base_predictor import BasePredictor, Predictor, Result
from .mirnet_predictor import MIRNetPredictor
from .mirnetv2_predictor import MIRNetV2Predictor
from .mpr_predictor import MPRPredictor

__all__ = ["BasePredictor", "MIRNetPredictor", "MIRNetV2Predictor", "MPRPredictor", "Predictor", "Result", "TaskSpec"]
