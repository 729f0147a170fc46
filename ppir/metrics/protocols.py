"""Benchmark protocols: which metrics, on which channel, with which SSIM and crop, on quantised or
float images, so that a config names the benchmark (``protocol: gopro``) instead of its knobs.

Each entry reproduces the script the papers' numbers came from; ``docs/evaluation.md`` explains
why each one looks the way it does. ``quantize=True`` means the script scored 8-bit PNGs, so the
Evaluator rounds both images to uint8 first (as ``img_as_ubyte`` + PNG did); otherwise the
(clipped) float images are scored with data range 1.
"""
from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class Protocol:
    name: str
    metrics: tuple  # metric configs for ppir.metrics.build_metric
    quantize: bool  # round to uint8 before scoring, as the official script read PNGs
    reproduces: str  # the official script (or code) this follows


RGB_MATLAB = ({"name": "PSNR"}, {"name": "SSIM", "mode": "matlab3d"})


def _y_wang(crop_border=0, crop_style="symmetric"):
    crop = {"crop_border": crop_border, "crop_style": crop_style, "channel": "y"}
    return ({"name": "PSNR", **crop}, {"name": "SSIM", "mode": "wang", **crop})


def _matlab_rgb(name, script):
    return Protocol(name, RGB_MATLAB, True, f"{script}: MATLAB psnr/ssim (3-D SSIM) on uint8 RGB PNGs")


def _realsr(scale):
    return Protocol(
        f"realsr_x{scale}",
        _y_wang(scale, "matlab"),
        True,
        f"MIRNetv2 Super_Resolution/evaluate_PSNR_SSIM.m: crop img({scale}:end-{scale}), "
        "rgb2ycbcr Y of uint8, psnr + ssim_index.m",
    )


PROTOCOLS = {
    p.name: p
    for p in (
        _matlab_rgb("gopro", "MPRNet Deblurring/evaluate_GOPRO_HIDE.m"),
        _matlab_rgb("hide", "MPRNet Deblurring/evaluate_GOPRO_HIDE.m"),
        _matlab_rgb("lol", "MIRNetv2 Enhancement/evaluate_PSNR_SSIM.m"),
        _matlab_rgb("fivek", "MIRNetv2 Enhancement/evaluate_PSNR_SSIM.m"),
        Protocol(
            "realblur",
            ({"name": "RealBlurPSNRSSIM"},),
            True,
            "MPRNet Deblurring/evaluate_RealBlur.py: ECC-aligned, masked PSNR/SSIM on PNGs read as float",
        ),
        Protocol(
            "rain",
            _y_wang(),
            True,
            "MPRNet Deraining/evaluate_PSNR_SSIM.m: rgb2ycbcr Y of uint8, 20log10(255/rmse) + ssim_index.m",
        ),
        Protocol(
            "sidd_val",
            RGB_MATLAB,
            False,
            "MPRNet/MIRNetv2 evaluate_SIDD.m: MATLAB psnr/ssim (3-D SSIM) on single RGB in [0,1], peak 1",
        ),
        _realsr(2),
        _realsr(3),
        _realsr(4),
        Protocol(
            "dpdd",
            ({"name": "PSNR"}, {"name": "SSIM", "mode": "skimage"}, {"name": "MAE"}),
            False,
            "MIRNetv2 test_dual_pixel_defocus_deblur.py: 10log10(1/mse), skimage default SSIM, MAE on floats",
        ),
        Protocol(
            "training_psnr",
            ({"name": "PSNR"},),
            False,
            "MPRNet train.py torchPSNR: RGB PSNR of the clamped float output, averaged per image",
        ),
    )
}


def get_protocol(spec):
    """A Protocol from a name, a Protocol, a list of metric configs (quantised, like BasicSR's
    validation) or a mapping ``{'metrics': [...], 'quantize': bool}``."""
    if isinstance(spec, Protocol):
        return spec
    if isinstance(spec, str):
        if spec not in PROTOCOLS:
            raise ConfigError(f"unknown evaluation protocol {spec!r}; known: {', '.join(PROTOCOLS)}")
        return PROTOCOLS[spec]
    if isinstance(spec, dict) and "metrics" in spec:
        unknown = set(spec) - {"metrics", "quantize", "name"}
        if unknown:
            raise ConfigError(f"evaluation protocol: unknown keys {sorted(unknown)}; use 'metrics' and 'quantize'")
        return Protocol(spec.get("name", "custom"), tuple(spec["metrics"]), bool(spec.get("quantize", True)), "config")
    if isinstance(spec, (list, tuple)) and spec:
        return Protocol("custom", tuple(spec), True, "config")
    raise ConfigError(
        f"evaluation protocol must be a name ({', '.join(PROTOCOLS)}), a list of metric configs "
        f"or {{'metrics': [...], 'quantize': bool}}; got {spec!r}"
    )


def mean_of_dataset_means(summaries):
    """Unweighted mean over datasets of their mean scores, {dataset: {metric: value}} -> {metric: value}.

    The deraining papers' "all datasets" column is this (each of the five sets counts once,
    whatever its size), not the mean over all images.
    """
    if not summaries:
        raise ValueError("mean_of_dataset_means needs at least one dataset summary")
    metric_sets = {tuple(sorted(summary)) for summary in summaries.values()}
    if len(metric_sets) != 1:
        raise ValueError(f"dataset summaries report different metrics: {sorted(metric_sets)}")
    metrics = next(iter(summaries.values()))
    return {m: sum(summary[m] for summary in summaries.values()) / len(summaries) for m in metrics}
