"""ppir: a PaddlePaddle model zoo for image restoration (MPRNet, MIRNetV2, MIRNet)."""
__version__ = "0.1.0"
