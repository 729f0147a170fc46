"""RealBlur scoring as MPRNet's ``evaluate_RealBlur.py`` does it: align, mask, then PSNR/SSIM.

RealBlur ground truth is not pixel-aligned with the blurred capture, so the official script first
registers the restored image onto the reference:
1. intensity matching: scale the restored image by sum(ref * img) / sum(img^2);
2. ``cv2.findTransformECC`` (homography, 100 iterations, eps 0, Gaussian pre-filter 5) between the
   gray versions, reference as template;
3. warp the restored image onto the reference grid (cubic, inverse map, reflected border) and
   warp a ones image with nearest/zero border to get the mask of pixels that came from inside;
4. multiply both images by the mask.
Scores then ignore the masked-out pixels: PSNR = 10 log10(1 / (sum(diff^2) / sum(mask))) and SSIM
is the Gaussian (Wang) SSIM map times the mask, cropped by the window radius, summed per channel
over the sum of the cropped mask, then averaged over channels. Everything runs on float32 images
in [0, 1] as the script reads them (``uint8 / 255``); sums and scores are float64.
"""
import cv2
import numpy as np

from .pixel_error import psnr_from_mse
from .preprocess import check_pair, default_data_range
from .structural_similarity import GAUSSIAN_RADIUS, ssim_map

ECC_ITERATIONS = 100
ECC_EPSILON = 0.0
ECC_GAUSSIAN_SIZE = 5


def _as_unit_float32(img):
    return img.astype(np.float32) / np.float32(default_data_range(img.dtype))


def align_to_reference(img, ref):
    """Register ``img`` onto ``ref`` (float32 HxWx3 in [0, 1]).

    Returns ``(aligned_img, masked_ref, mask, warp)``: both images already multiplied by the
    HxWx3 validity mask, and the 3x3 homography ECC found (reference -> image coordinates).
    """
    matched = (np.sum(ref * img) / np.sum(img * img)) * img
    warp = np.eye(3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, ECC_ITERATIONS, ECC_EPSILON)
    try:
        _, warp = cv2.findTransformECC(
            cv2.cvtColor(ref, cv2.COLOR_RGB2GRAY),
            cv2.cvtColor(matched, cv2.COLOR_RGB2GRAY),
            warp,
            cv2.MOTION_HOMOGRAPHY,
            criteria,
            None,
            ECC_GAUSSIAN_SIZE,
        )
    except cv2.error as exc:
        raise ValueError(f"RealBlur ECC alignment failed (images too different to register): {exc.err}") from None
    size = (ref.shape[1], ref.shape[0])
    aligned = cv2.warpPerspective(
        matched, warp, size, flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT
    )
    mask = cv2.warpPerspective(
        np.ones_like(matched),
        warp,
        size,
        flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return aligned * mask, ref * mask, mask, warp


def masked_psnr(img, ref, mask):
    """PSNR over the masked pixels only, data range 1."""
    squared_error = np.sum((img.astype(np.float64) - ref.astype(np.float64)) ** 2)
    return psnr_from_mse(squared_error / np.sum(mask, dtype=np.float64), 1.0)


def masked_ssim(img, ref, mask):
    """Wang SSIM map weighted by the mask: masked mean per channel, then mean over channels."""
    ssim_values = ssim_map(img.astype(np.float64), ref.astype(np.float64), 1.0, mode="wang")
    r = GAUSSIAN_RADIUS
    kept = mask[r:-r, r:-r].astype(np.float64)
    per_channel = np.sum(ssim_values * kept, axis=(0, 1)) / np.sum(kept, axis=(0, 1))
    return float(np.mean(per_channel))


def realblur_psnr_ssim(img, ref):
    """``(psnr, ssim)`` of ``img`` (restored) against ``ref`` (sharp) by the RealBlur protocol."""
    img, ref = check_pair(img, ref, default_data_range(np.asarray(img).dtype))
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"RealBlur scoring needs HxWx3 RGB images, got shape {img.shape}")
    aligned, masked_ref, mask, _ = align_to_reference(_as_unit_float32(img), _as_unit_float32(ref))
    return masked_psnr(aligned, masked_ref, mask), masked_ssim(aligned, masked_ref, mask)
