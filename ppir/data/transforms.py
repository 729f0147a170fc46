"""Per-sample transforms on HxWxC NumPy arrays, applied identically to every image of a pair.

A pair is a list of arrays with the same height and width (inputs first, target last); channel
counts and dtypes may differ (DPDD: two 16-bit views and a target). Every random choice is drawn
once and used for all arrays, which is what keeps input and target aligned.
"""
import numpy as np

# ITU-R 601 luma weights, as PIL's 'L' conversion and torchvision's adjust_saturation use.
_GRAY_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)
DIHEDRAL_MODES = 8


def _size(patch_size):
    return (patch_size, patch_size) if np.isscalar(patch_size) else tuple(patch_size)


def _same_size(arrays):
    sizes = {a.shape[:2] for a in arrays}
    if len(sizes) != 1:
        raise ValueError(f"images of a pair differ in size: {sorted(sizes)}")
    return sizes.pop()


def pad_to_size(arrays, size):
    """Reflect-pad every array at the bottom/right up to at least ``size`` (h, w).

    Bottom/right padding is what MPRNet's loader does; 'symmetric' takes over where an image is a
    single pixel wide, since reflection needs at least two.
    """
    height, width = _same_size(arrays)
    pad_h, pad_w = max(0, size[0] - height), max(0, size[1] - width)
    if pad_h == 0 and pad_w == 0:
        return list(arrays)
    mode = "reflect" if min(height, width) > 1 else "symmetric"
    return [np.pad(a, ((0, pad_h), (0, pad_w), (0, 0)), mode=mode) for a in arrays]


def paired_random_crop(arrays, patch_size, rng=np.random):
    """The same random ``patch_size`` window of every array (padded first if too small)."""
    size = _size(patch_size)
    arrays = pad_to_size(arrays, size)
    height, width = _same_size(arrays)
    top = rng.randint(0, height - size[0] + 1)
    left = rng.randint(0, width - size[1] + 1)
    return [a[top : top + size[0], left : left + size[1]] for a in arrays]


def center_crop(arrays, patch_size):
    """The central ``patch_size`` window of every array (no padding: smaller images stay whole)."""
    height, width = _same_size(arrays)
    crop_h, crop_w = min(_size(patch_size)[0], height), min(_size(patch_size)[1], width)
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return [a[top : top + crop_h, left : left + crop_w] for a in arrays]


def augment_dihedral(arrays, mode):
    """One of the 8 flips/rotations of the square: ``mode`` 0-3 rotate by 90°·mode, 4-7 flip
    left-right first. Mode 0 is the identity."""
    if not 0 <= mode < DIHEDRAL_MODES:
        raise ValueError(f"dihedral mode must be in 0..7, got {mode}")
    out = []
    for a in arrays:
        if mode >= 4:
            a = a[:, ::-1]
        out.append(np.rot90(a, mode % 4, axes=(0, 1)))
    return out


def random_dihedral(arrays, rng=np.random):
    """``augment_dihedral`` with a mode drawn uniformly from the 8 (MPRNet's own draw,
    ``randint(0, 8)`` over 9 values, gives the identity twice the weight; we do not copy that)."""
    return augment_dihedral(arrays, int(rng.randint(0, DIHEDRAL_MODES)))


def adjust_saturation(img, factor):
    """Blend a float RGB image with its gray version: 0 gives gray, 1 the image, >1 more colour.

    Images with 3·k channels (DPDD's two views) are treated as k RGB images. Clipped to [0, 1].
    """
    channels = img.shape[2]
    if channels % 3:
        raise ValueError(f"saturation needs RGB images (3·k channels), got {channels}")
    groups = img.reshape(img.shape[0], img.shape[1], channels // 3, 3)
    gray = (groups @ _GRAY_WEIGHTS)[..., None]
    out = gray + factor * (groups - gray)
    return np.clip(out, 0.0, 1.0).reshape(img.shape).astype(np.float32)


def random_saturation(images, jitter, prob, rng=np.random):
    """With probability ``prob``, scale saturation by one factor drawn from [1-jitter, 1+jitter]
    for all images (MPRNet deblurring: jitter 0.2, prob 1/3). Float images in [0, 1]."""
    if jitter <= 0 or rng.rand() >= prob:
        return list(images)
    factor = 1.0 + rng.uniform(-jitter, jitter)
    return [adjust_saturation(img, factor) for img in images]


def to_chw(img):
    """HxWxC -> contiguous CxHxW float32."""
    return np.ascontiguousarray(np.transpose(img, (2, 0, 1)), dtype=np.float32)
