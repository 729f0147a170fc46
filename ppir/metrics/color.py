"""BT.601 luma exactly as MATLAB's ``rgb2ycbcr`` computes it, because the deraining and RealSR
scores in the papers were taken on that Y channel.

MATLAB works on the class's own scale: for ``uint8`` Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255
with R, G, B in 0..255, *rounded* to an integer (the output stays uint8, range 16..235). For
``double`` input in [0, 1] the same formula is scaled by 1/255 and not rounded (range
16/255..235/255). We generalise that to any ``data_range`` L: offset 16 L / 255 plus the weighted
sum / 255, rounded when the input dtype is an integer (uint16 with L = 65535 reproduces MATLAB's
uint16 path: offset 16 * 257).
"""
import numpy as np

# Rows of MATLAB's rgb2ycbcr matrix for Y, on the 0..255 scale.
Y_WEIGHTS = np.array([65.481, 128.553, 24.966], dtype=np.float64)
Y_OFFSET = 16.0


def rgb_to_y(img, data_range=255, round_integers=True):
    """HxWx3 RGB (uint8, uint16 or float) -> HxW float64 luma on the same ``data_range`` scale.

    With ``round_integers`` (the default) integer inputs get MATLAB's rounding; BasicSR's
    training-time Y skips it, so pass False to reproduce BasicSR.
    """
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"Y channel needs an HxWx3 RGB image, got shape {img.shape}")
    y = img.astype(np.float64) @ (Y_WEIGHTS / 255.0) + Y_OFFSET * data_range / 255.0
    if round_integers and np.issubdtype(img.dtype, np.integer):
        # MATLAB rounds half away from zero; Y is positive so floor(y + 0.5) is the same.
        y = np.floor(y + 0.5)
    return y
