"""Tiled inference: restore a large image as overlapping tiles and blend them without seams.

Where tiles go: as few tiles as cover the side with at least ``overlap`` pixels shared between
neighbours, spread evenly (the step adapts, so the last tile is not squeezed against the border).

How they are blended: each tile's output is weighted by a separable window that is 1 inside and
falls off with a raised cosine across the ``overlap`` pixels of every side that has a neighbour
(sides on the image border keep weight 1: nothing else covers them). The sum of weighted tiles is
divided by the sum of weights, so where two ramps cross exactly they add up to 1 and elsewhere
the normalisation takes care of it. Compared with the plain average of SwinIR/Restormer demos,
pixels near a tile's edge, which saw the least context, count least.
"""
import math

import numpy as np


def tile_starts(length, tile, overlap):
    """Start offsets of tiles of size ``tile`` covering ``length``, neighbours sharing >= overlap."""
    if length <= tile:
        return [0]
    count = math.ceil((length - tile) / (tile - overlap)) + 1
    span = length - tile
    return [round(i * span / (count - 1)) for i in range(count)]


def ramp(overlap):
    """Raised-cosine ramp rising over ``overlap`` samples, strictly between 0 and 1."""
    steps = (np.arange(overlap, dtype=np.float64) + 0.5) / overlap
    return (0.5 - 0.5 * np.cos(np.pi * steps)).astype(np.float32)


def window_1d(size, overlap, rise, fall):
    """Weights along one tile side: ramp up at the start if ``rise``, down at the end if ``fall``."""
    weights = np.ones(size, dtype=np.float32)
    overlap = min(overlap, size // 2)
    if overlap > 0:
        if rise:
            weights[:overlap] = ramp(overlap)
        if fall:
            weights[size - overlap :] = ramp(overlap)[::-1]
    return weights


def run_tiled(restore, x, tile, overlap):
    """Apply ``restore`` (NCHW -> NCHW, the same size or an integer ``scale`` times larger) to
    tiles of NCHW ``x`` and blend the results.

    ``tile`` is an int (square tiles) or (tile_h, tile_w); tiles never exceed the image.
    """
    tile_h, tile_w = (tile, tile) if isinstance(tile, int) else tile
    height, width = x.shape[2], x.shape[3]
    tile_h, tile_w = min(tile_h, height), min(tile_w, width)
    rows = tile_starts(height, tile_h, overlap)
    cols = tile_starts(width, tile_w, overlap)
    total = weight_sum = None
    for top in rows:
        for left in cols:
            out = restore(x[:, :, top : top + tile_h, left : left + tile_w])
            if total is None:
                s = out.shape[2] // tile_h  # the network's scale
                total = np.zeros(out.shape[:2] + (height * s, width * s), dtype=np.float32)
                weight_sum = np.zeros((height * s, width * s), dtype=np.float32)
            wy = window_1d(tile_h * s, overlap * s, top > 0, top + tile_h < height)
            wx = window_1d(tile_w * s, overlap * s, left > 0, left + tile_w < width)
            weights = wy[:, None] * wx[None, :]
            total[:, :, top * s : (top + tile_h) * s, left * s : (left + tile_w) * s] += out * weights
            weight_sum[top * s : (top + tile_h) * s, left * s : (left + tile_w) * s] += weights
    return total / weight_sum


def tile_count(height, width, tile, overlap):
    tile_h, tile_w = (tile, tile) if isinstance(tile, int) else tile
    return len(tile_starts(height, min(tile_h, height), overlap)) * len(
        tile_starts(width, min(tile_w, width), overlap)
    )
