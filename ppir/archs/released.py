"""The released models of MPRNet, MIRNetV2 and MIRNet (v1): one table per family, each the
``released_models`` of its network class (see ``ppir.archs.model_index``). docs/models.md gives the
same facts with their sources; ``tests/test_model_index.py`` checks that the two agree.

Published numbers are PSNR / SSIM as published; provenance codes as in docs/models.md: [PwC]
Papers-with-Code listing of the paper, [issue] a GitHub issue, [3rd] a third-party README,
[recalled] not confirmed.
"""
from .model_index import ReleasedModel

PADDLEGAN_MODELS = "https://paddlegan.bj.bcebos.com/models/"
MIRNETV2_RELEASE_URL = "https://github.com/swz30/MIRNetv2/releases/download/v1.0.0/"
MIRNET_WEIGHTS_PAGE = ("the Google Drive links in the README of https://github.com/swz30/MIRNet "
                       "(pretrained_models/{folder}/{file})")

_MPRNET_PUBLISHED = {
    "Deblurring": (("GoPro", "32.66 / 0.959", "[PwC]"), ("HIDE", "30.96 / 0.939", "[PwC]"),
                   ("RealBlur-J", "28.70 / 0.873", "[PwC]")),
    "Denoising": (("DND", "39.80 / 0.954", "[PwC]"), ("SIDD", "39.71 / 0.958", "[recalled]")),
    "Deraining": (("Rain100H", "30.41 / 0.890", "[3rd]"), ("average of the five sets", "32.73 / 0.921", "[recalled]")),
}
# Peak memory of one forward pass per input pixel (bytes), benchmarks/measure_memory.py, CPU.
_MPRNET_BYTES_PER_PIXEL = {"Deblurring": 9000, "Denoising": 8000, "Deraining": 4000}

MPRNET_RELEASED = {
    task: ReleasedModel(
        task=task, arch={"name": "MPRNet", "task": task}, url=f"{PADDLEGAN_MODELS}MPR_{task}.pdparams",
        filename=f"MPR_{task}.pdparams", published=_MPRNET_PUBLISHED[task],
        bytes_per_pixel=_MPRNET_BYTES_PER_PIXEL[task])
    for task in ("Deblurring", "Denoising", "Deraining")
}

MIRNETV2_FILES = {
    "real_denoising": "real_denoising.pth", "enhancement_lol": "enhancement_lol.pth",
    "enhancement_fivek": "enhancement_fivek.pth", "sr_x2": "sr_x2.pth", "sr_x3": "sr_x3.pth",
    "sr_x4": "sr_x4.pth", "defocus_deblurring": "dual_pixel_defocus_deblurring.pth",
}
MIRNETV2_RELEASED = {
    task: ReleasedModel(
        task=task, arch={"name": "MIRNetV2", "task": task}, url=MIRNETV2_RELEASE_URL + weights,
        filename=f"MIRNetv2_{weights}",
        published=(("LOL", "24.74 / 0.851", "[issue] MIRNetv2 #19"),) if task == "enhancement_lol" else (),
        bytes_per_pixel=6000, enlarge=int(task[4:]) if task.startswith("sr_x") else 1,
        views=2 if task == "defocus_deblurring" else 1)
    for task, weights in MIRNETV2_FILES.items()
}

_MIRNET_FILES = {
    "real_denoising": ("denoising", "model_denoising.pth"),
    "enhancement_lol": ("enhancement", "model_lol.pth"),
    "enhancement_fivek": ("enhancement", "model_fivek.pth"),
    "sr_x3": ("super_resolution", "model_SR_x3.pth"),  # no x2 was released (MIRNet issue #22)
    "sr_x4": ("super_resolution", "model_SR_x4.pth"),
}
MIRNET_RELEASED = {
    task: ReleasedModel(
        task=task, arch={"name": "MIRNet"}, url=None, filename=file,
        weights_page=MIRNET_WEIGHTS_PAGE.format(folder=folder, file=file),
        published=((("SIDD", "39.72 / 0.959", "PSNR: paper summary page; SSIM [recalled]"),
                    ("DND", "39.88 / 0.956", "[recalled]")) if task == "real_denoising" else ()),
        enlarge=int(task[4:]) if task.startswith("sr_x") else 1)
    for task, (folder, file) in _MIRNET_FILES.items()
}
