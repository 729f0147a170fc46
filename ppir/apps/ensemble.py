"""Self-ensemble (x8 test-time augmentation): restore the 8 flips/rotations of an image, undo each
transform on its result, and average. Works on NCHW arrays (the spatial axes are 2 and 3)."""
import numpy as np


def dihedral(x, mode):
    """Mode 0-7: rotate by 90 degrees ``mode % 4`` times, after a left-right flip when mode >= 4."""
    if mode >= 4:
        x = x[:, :, :, ::-1]
    return np.rot90(x, mode % 4, axes=(2, 3))


def inverse_dihedral(x, mode):
    x = np.rot90(x, -(mode % 4), axes=(2, 3))
    if mode >= 4:
        x = x[:, :, :, ::-1]
    return x


def self_ensemble(restore, x):
    """Mean over the 8 dihedral transforms of ``inverse(restore(transform(x)))``."""
    total = None
    for mode in range(8):
        out = inverse_dihedral(restore(np.ascontiguousarray(dihedral(x, mode))), mode)
        total = out.astype(np.float32) if total is None else total + out
    return total / 8.0
