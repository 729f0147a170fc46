"""Reading and writing network parameters: official PyTorch ``.pth`` (without torch), PaddleGAN
``.pdparams`` and ppir weights/checkpoints. Unpickling is restricted to tensors, numpy arrays and
plain containers; loading is strict by default. See ``load.py`` for which state dict is picked."""
from .load import LoadReport, load_weights, read_state_dict
from .save import load_checkpoint, save_checkpoint, save_weights

__all__ = ["LoadReport", "load_weights", "read_state_dict", "save_weights", "save_checkpoint", "load_checkpoint"]
