"""Image quality metrics that follow each benchmark's official protocol.

Functions: ``psnr``, ``ssim`` (modes 'wang', 'matlab3d', 'skimage'), ``mae``, ``rgb_to_y``,
``realblur_psnr_ssim``. Presets: ``PROTOCOLS`` / ``get_protocol``; ``Evaluator`` accumulates a
test set (distributed-aware); ``build_metric`` builds a registered metric from a config.
"""
from .color import rgb_to_y
from .evaluator import Evaluator
from .metric_types import MAE, PSNR, SSIM, RealBlurPSNRSSIM, build_metric
from .pixel_error import mae, psnr
from .preprocess import crop_border
from .protocols import PROTOCOLS, Protocol, get_protocol, mean_of_dataset_means
from .realblur import align_to_reference, realblur_psnr_ssim
from .structural_similarity import ssim, ssim_map

__all__ = [
    "Evaluator",
    "MAE",
    "PROTOCOLS",
    "PSNR",
    "Protocol",
    "RealBlurPSNRSSIM",
    "SSIM",
    "align_to_reference",
    "build_metric",
    "crop_border",
    "get_protocol",
    "mae",
    "mean_of_dataset_means",
    "psnr",
    "realblur_psnr_ssim",
    "rgb_to_y",
    "ssim",
    "ssim_map",
]
