"""Photo restoration apps: predictors that take files, folders or arrays of any size and bit
depth and write restored PNGs. ``MPRPredictor`` (MPRNet), ``MIRNetV2Predictor`` (MIRNet-v2)."""
from .base_predictor import BasePredictor, Result, TaskSpec
from .mirnetv2_predictor import MIRNetV2Predictor
from .mpr_predictor import MPRPredictor

__all__ = ["BasePredictor", "MIRNetV2Predictor", "MPRPredictor", "Result", "TaskSpec"]
