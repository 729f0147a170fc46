"""Metric objects a config can name (``ppir.registry.METRICS``), e.g.
``{'name': 'PSNR', 'crop_border': 4, 'channel': 'y'}``.

A metric is called as ``metric(img, ref)`` and returns ``{label: value}``; ``labels`` lists the
keys it produces (RealBlur's aligned metric yields two from one registration). ``data_range=None``
takes the peak from the dtype (255 for uint8, 65535 for uint16, 1 for floats), so the same config
works on quantised and float images.
"""
from ..errors import ConfigError
from ..registry import METRICS
from .pixel_error import mae, psnr
from .preprocess import CHANNELS, CROP_STYLES, default_data_range
from .realblur import realblur_psnr_ssim
from .structural_similarity import SSIM_MODES, ssim


def _check_choice(key, value, choices):
    if value not in choices:
        raise ConfigError(f"metric key {key!r}: {value!r} is not one of {choices}")


class PixelMetric:
    """A metric computed by one of the functions in this package, with its crop/channel options."""

    score_function = None  # staticmethod(psnr | ssim | mae)

    def __init__(self, crop_border=0, channel="rgb", data_range=None, crop_style="symmetric", label=None):
        _check_choice("channel", channel, CHANNELS)
        _check_choice("crop_style", crop_style, CROP_STYLES)
        self.options = dict(crop_border=int(crop_border), channel=channel, crop_style=crop_style)
        self.data_range = data_range
        self.labels = (label or type(self).__name__,)

    def __call__(self, img, ref):
        data_range = self.data_range or default_data_range(img.dtype)
        value = self.score_function(img, ref, data_range=data_range, **self.options)
        return {self.labels[0]: value}

    def __repr__(self):
        return f"{type(self).__name__}({self.options}, data_range={self.data_range})"


@METRICS.register()
class PSNR(PixelMetric):
    score_function = staticmethod(psnr)


@METRICS.register()
class MAE(PixelMetric):
    score_function = staticmethod(mae)


@METRICS.register()
class SSIM(PixelMetric):
    score_function = staticmethod(ssim)

    def __init__(self, mode="wang", **kwargs):
        _check_choice("mode", mode, SSIM_MODES)
        super().__init__(**kwargs)
        self.options["mode"] = mode


@METRICS.register()
class RealBlurPSNRSSIM:
    """PSNR and SSIM after ECC registration and masking (see ``ppir.metrics.realblur``)."""

    def __init__(self, psnr_label="PSNR", ssim_label="SSIM"):
        self.labels = (psnr_label, ssim_label)

    def __call__(self, img, ref):
        return dict(zip(self.labels, realblur_psnr_ssim(img, ref)))


def build_metric(cfg):
    """A metric object from ``{'name': ..., **options}``; bad names/keys raise ConfigError."""
    return METRICS.build(cfg)
