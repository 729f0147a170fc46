"""MIRNet-v2 (Zamir et al., TPAMI 2022, "Learning Enriched Features for Fast Image Restoration
and Enhancement"), with the official parameter names and per-task configurations.

Layout: ``conv_in`` -> 4 recursive residual groups (conv groups 1, 2, 4, 4) -> ``conv_out``.
A group is ``n_MRB`` multi-scale residual blocks and a 3x3 conv, plus its input. A block (MRB)
runs three streams (80/120/180 channels at full/half/quarter resolution) through residual
context blocks (RCB) in two rounds; after each round the lower streams are upsampled and merged
upwards by SKFF. Both rounds reuse the same ``dau_*`` and ``skff_*`` layers (sharing by reuse,
so there are no duplicate keys); the upsamplers ``up21_1/_2`` and ``up32_1/_2`` are separate.

Like the official code: ``n_RRG``, ``height``, ``width`` and ``scale`` are accepted and ignored
(the released configs pass them); there is no upsampler ("super-resolution" restores RealSR
images whose LR is already at HR size); resampling and SKFF never have biases.
"""
import paddle
from paddle import nn
import paddle.nn.functional as F

from ..errors import ConfigError
from ..registry import ARCHS
from .common import LeakyReLU, check_input, conv2d
from .mirnet import SKFF, ResampleChain
from .model_index import match_name
from .released import MIRNETV2_FILES, MIRNETV2_RELEASE_URL, MIRNETV2_RELEASED  # noqa: F401 (URL: re-exported)
from .resample import UpsampleDouble
from .state_shapes import has_bias, numbered_children, shapes

# Released configurations (the official Options/*.yml): constructor kwargs and weight file.
# All share n_feat=80, chan_factor=1.5, n_MRB=2, bias=False; ``scale`` is informational only.
_COMMON = {"out_channels": 3, "n_feat": 80, "chan_factor": 1.5, "n_MRB": 2, "bias": False}
_KWARGS = {
    "real_denoising": {"inp_channels": 3, **_COMMON},
    "enhancement_lol": {"inp_channels": 3, **_COMMON},
    "enhancement_fivek": {"inp_channels": 3, **_COMMON},
    **{f"sr_x{s}": {"inp_channels": 3, "scale": s, **_COMMON} for s in (2, 3, 4)},
    # Left and right dual-pixel views stacked: 6 input channels.
    "defocus_deblurring": {"inp_channels": 6, **_COMMON},
}
MIRNETV2_TASKS = {task: {"kwargs": kwargs, "weights": MIRNETV2_FILES[task]} for task, kwargs in _KWARGS.items()}
# The only task that changes the forward pass (feature residual instead of image residual).
DEFOCUS_TASK = "defocus_deblurring"


# Task names the official demo.py passes to the network; like the released tasks other than
# defocus they leave it a plain 3-channel, image-residual network. Accepted so that the official
# parameter dicts build unchanged.
OFFICIAL_DEMO_TASKS = ("super_resolution", "contrast_enhancement", "lowlight_enhancement")


def check_task(task):
    """``task`` as spelt in ``MIRNETV2_TASKS`` or ``OFFICIAL_DEMO_TASKS`` (any case), or None;
    otherwise a ConfigError (a misspelt 'defocus_deblurring' must not silently build a 3-channel
    net)."""
    if task is None:
        return None
    return match_name(task, (*MIRNETV2_TASKS, *OFFICIAL_DEMO_TASKS), "MIRNetV2 task")


def config_from_weights(state):
    """MIRNetV2 widths from the shapes of a state dict (official key names); {} if not MIRNetV2's."""
    found = shapes(state, "conv_in.weight", "body.0.body.0.dau_mid.body.0.weight")
    if found is None:
        return {}  # not MIRNetV2-shaped: loading will say what does not match
    first, mid = found
    out = shapes(state, "conv_out.weight")  # missing (renamed?): RGB, and loading names the key
    return {
        "inp_channels": int(first[1]), "out_channels": int(out[0][0] if out else 3), "n_feat": int(first[0]),
        "chan_factor": float(mid[0]) / float(first[0]),
        "n_MRB": numbered_children(state, "body.0.body.") - 1,  # an RRG is n_MRB MRBs and a conv
        "bias": has_bias(state),
    }


class ContextBlock(nn.Layer):
    """Global context (GCNet-style): a softmax over all pixels of a 1x1 c->1 mask weights the
    features into one context vector; a 1x1-LeakyReLU-1x1 transform of it is added everywhere."""

    def __init__(self, channels, bias):
        super().__init__()
        self.conv_mask = conv2d(channels, 1, 1, bias=bias)
        self.channel_add_conv = nn.Sequential(
            conv2d(channels, channels, 1, bias=bias), LeakyReLU(0.2),
            conv2d(channels, channels, 1, bias=bias))

    def forward(self, x):
        weights = F.softmax(paddle.flatten(self.conv_mask(x), 2), axis=-1)  # N, 1, HW
        context = paddle.matmul(paddle.flatten(x, 2), weights, transpose_y=True)  # N, C, 1
        return x + self.channel_add_conv(context.unsqueeze(-1))


class RCB(nn.Layer):
    """Residual context block: grouped conv-LeakyReLU-conv, context block, LeakyReLU, + input."""

    def __init__(self, channels, bias, groups):
        super().__init__()
        self.body = nn.Sequential(
            conv2d(channels, channels, 3, bias=bias, groups=groups), LeakyReLU(0.2),
            conv2d(channels, channels, 3, bias=bias, groups=groups))
        self.act = LeakyReLU(0.2)
        self.gcnet = ContextBlock(channels, bias)

    def forward(self, x):
        return self.act(self.gcnet(self.body(x))) + x


class Down(nn.Layer):
    """2x2 average pooling (ceil mode, padding excluded), then 1x1 conv c -> int(c*factor)."""

    def __init__(self, channels, chan_factor):
        super().__init__()
        self.out_channels = int(channels * chan_factor)
        self.bot = nn.Sequential(
            nn.AvgPool2D(2, stride=2, ceil_mode=True, exclusive=True),
            conv2d(channels, self.out_channels, 1))

    def forward(self, x):
        return self.bot(x)


class Up(nn.Layer):
    """1x1 conv c -> int(c // factor), then bilinear x2 (align_corners=False)."""

    def __init__(self, channels, chan_factor):
        super().__init__()
        self.out_channels = int(channels // chan_factor)
        self.bot = nn.Sequential(conv2d(channels, self.out_channels, 1), UpsampleDouble())

    def forward(self, x):
        return self.bot(x)


class MRB(nn.Layer):
    """Multi-scale residual block: three streams, two rounds of RCBs with bottom-up SKFF merging,
    a 1x1 conv on the top stream, plus the input."""

    def __init__(self, n_feat, chan_factor, bias, groups):
        super().__init__()
        top, mid, bot = (int(n_feat * chan_factor**level) for level in range(3))
        if any(width % groups for width in (top, mid, bot)):
            raise ConfigError(f"MIRNetV2 n_feat={n_feat} with chan_factor={chan_factor} gives streams of "
                              f"{top}/{mid}/{bot} channels, which grouped convolutions ({groups} groups) cannot "
                              f"split; use e.g. n_feat=16, 80")
        self.dau_top = RCB(top, bias, groups)
        self.dau_mid = RCB(mid, bias, groups)
        self.dau_bot = RCB(bot, bias, groups)
        # Widths as the official formulas give them; they must meet at every stream.
        down_top, down_mid = Down(top, chan_factor), Down(mid, chan_factor)
        if (down_top.out_channels, down_mid.out_channels, int(mid // chan_factor),
                int(bot // chan_factor)) != (mid, bot, top, mid):
            raise ConfigError(f"MIRNetV2 n_feat={n_feat} with chan_factor={chan_factor} gives "
                             f"streams that do not fit together; use e.g. n_feat=80, 1.5")
        self.down2 = ResampleChain([down_top])
        self.down4 = nn.Sequential(ResampleChain([Down(top, chan_factor)]),
                                   ResampleChain([down_mid]))
        self.up21_1 = ResampleChain([Up(mid, chan_factor)])
        self.up21_2 = ResampleChain([Up(mid, chan_factor)])
        self.up32_1 = ResampleChain([Up(bot, chan_factor)])
        self.up32_2 = ResampleChain([Up(bot, chan_factor)])
        self.conv_out = conv2d(n_feat, n_feat, 1, bias=bias)
        self.skff_top = SKFF(top, 2, LeakyReLU(0.2))
        self.skff_mid = SKFF(mid, 2, LeakyReLU(0.2))

    def forward(self, x):
        x_top, x_mid, x_bot = x, self.down2(x), self.down4(x)
        for up32, up21 in ((self.up32_1, self.up21_1), (self.up32_2, self.up21_2)):
            x_top, x_mid, x_bot = self.dau_top(x_top), self.dau_mid(x_mid), self.dau_bot(x_bot)
            x_mid = self.skff_mid([x_mid, up32(x_bot)])
            x_top = self.skff_top([x_top, up21(x_mid)])
        return self.conv_out(x_top) + x


class RRG(nn.Layer):
    """Recursive residual group: MRBs, then a 3x3 conv, plus the input."""

    def __init__(self, n_feat, n_MRB, chan_factor, bias, groups):
        super().__init__()
        blocks = [MRB(n_feat, chan_factor, bias, groups) for _ in range(n_MRB)]
        self.body = nn.Sequential(*blocks, conv2d(n_feat, n_feat, 3, bias=bias))

    def forward(self, x):
        return self.body(x) + x


@ARCHS.register("MIRNetV2")
class MIRNetV2(nn.Layer):
    """MIRNet-v2. ``task`` is None or a key of ``MIRNETV2_TASKS``; only 'defocus_deblurring'
    changes the network (6 input channels unless ``inp_channels`` is given, and
    ``out = conv_out(body(f) + f)`` with no image residual); every other network returns
    ``conv_out(body(conv_in(x))) + x``. ``forward(x)`` takes NCHW with H, W divisible by 4.
    ``n_RRG``, ``height``, ``width`` and ``scale`` are accepted and ignored, as officially."""

    size_multiple = 4
    released_models = MIRNETV2_RELEASED
    config_from_weights = staticmethod(config_from_weights)

    def __init__(self, inp_channels=None, out_channels=3, n_feat=80, chan_factor=1.5, n_MRB=2,
                 bias=False, task=None, n_RRG=4, height=3, width=2, scale=1):
        super().__init__()
        self.task = task = check_task(task)
        if inp_channels is None:
            inp_channels = 6 if task == DEFOCUS_TASK else 3
        self.inp_channels = self.in_channels = inp_channels
        self.out_channels = out_channels
        self.scale = 1  # the ``scale`` option is informational: the output has the input's size
        self.config = {"inp_channels": inp_channels, "out_channels": out_channels,
                       "n_feat": n_feat, "chan_factor": chan_factor, "n_MRB": n_MRB,
                       "bias": bias, "task": task}
        self.conv_in = conv2d(inp_channels, n_feat, 3, bias=bias)
        self.body = nn.Sequential(
            *[RRG(n_feat, n_MRB, chan_factor, bias, groups) for groups in (1, 2, 4, 4)])
        self.conv_out = conv2d(n_feat, out_channels, 3, bias=bias)

    def forward(self, x):
        check_input(x, "MIRNetV2", self.inp_channels, self.size_multiple)
        shallow = self.conv_in(x)
        if self.task == DEFOCUS_TASK:
            return self.conv_out(self.body(shallow) + shallow)
        return self.conv_out(self.body(shallow)) + x
