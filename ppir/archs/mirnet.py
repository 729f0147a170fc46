"""MIRNet (Zamir et al., ECCV 2020, "Learning Enriched Features for Real Image Restoration and
Enhancement"), with the official parameter names, widths and weight sharing.

Layout: ``conv_in`` -> ``n_RRG`` recursive residual groups -> ``conv_out``, plus the input image.
A group is ``n_MSRB`` multi-scale residual blocks and a 3x3 conv, plus its input. A block (MSRB)
runs ``height`` streams (64/128/256 channels at full/half/quarter resolution); each stream passes
``width`` dual-attention units (DAU), and between columns every stream receives all the others,
resized by residual down/up-sampling and merged by selective kernel feature fusion (SKFF).

Sharing copied from the official model, so its checkpoints load and give its outputs:

* All columns of a stream run the *same* DAU (the official builds ``[DAU(c)] * width``), so the
  state dict lists ``blocks.j.0.*`` and ``blocks.j.1.*`` for one set of tensors.
* One PReLU serves every DAU of the network (official: a default argument ``act=nn.PReLU()``,
  evaluated once), so its 36 ``blocks.j.k.body.1.weight`` keys alias one parameter.

The official code passes ``bias`` only to ``conv_in``, ``conv_out`` and each MSRB's ``conv_out``;
everything else is bias-free whatever the flag says, and so it is here.
"""
import math

import numpy as np
import paddle
from paddle import nn
import paddle.nn.functional as F

from ..errors import ConfigError
from ..registry import ARCHS
from .common import PReLU, check_input, conv2d, torch_default_conv_init
from .mprnet import CALayer
from .released import MIRNET_RELEASED
from .resample import UpsampleDouble
from .state_shapes import has_bias, numbered_children, shapes


class SKFF(nn.Layer):
    """Selective kernel feature fusion: a per-channel softmax over ``branches`` same-shaped inputs,
    computed from their sum's global average (squeeze to ``max(c/8, 4)`` channels, ``act``, one
    1x1 excitation per branch). MIRNet uses PReLU and 3 branches, MIRNetV2 LeakyReLU and 2.

    Written with 4-D tensors only (no 5-D stack of the inputs): equal maths, less memory, and
    Paddle Inference's oneDNN ``stack`` kernel fails on it."""

    def __init__(self, channels, branches, act, reduction=8):
        super().__init__()
        hidden = max(int(channels / reduction), 4)
        self.channels, self.branches = channels, branches
        self.conv_du = nn.Sequential(conv2d(channels, hidden, 1), act)
        self.fcs = nn.LayerList([conv2d(hidden, channels, 1) for _ in range(branches)])

    def forward(self, feats):
        squeezed = self.conv_du(paddle.add_n(feats).mean(axis=[2, 3], keepdim=True))
        logits = paddle.concat([fc(squeezed) for fc in self.fcs], axis=1)  # N, branches*C, 1, 1
        weights = F.softmax(logits.reshape([-1, self.branches, self.channels, 1]), axis=1)
        weights = weights.reshape([-1, self.branches * self.channels, 1, 1])
        return paddle.add_n([f * w for f, w in
                             zip(feats, paddle.split(weights, self.branches, axis=1))])


class ConvHolder(nn.Layer):
    """One conv kept under the attribute ``conv``: the official spatial attention wraps its conv
    in a ``BasicConv`` (with BN and ReLU switched off), so the key reads ``spatial.conv.weight``."""

    def __init__(self, conv):
        super().__init__()
        self.conv = conv

    def forward(self, x):
        return self.conv(x)


class SpatialAttention(nn.Layer):
    """Gates every pixel by sigmoid(5x5 conv of [channel max, channel mean])."""

    def __init__(self):
        super().__init__()
        self.spatial = ConvHolder(conv2d(2, 1, 5))

    def forward(self, x):
        pooled = paddle.concat([x.max(axis=1, keepdim=True), x.mean(axis=1, keepdim=True)], axis=1)
        return x * F.sigmoid(self.spatial(pooled))


class DAU(nn.Layer):
    """Dual attention unit: conv-act-conv, then spatial and channel attention side by side,
    concatenated, fused by a 1x1 conv, plus the input."""

    def __init__(self, channels, act, reduction=8):
        super().__init__()
        self.body = nn.Sequential(conv2d(channels, channels, 3), act, conv2d(channels, channels, 3))
        self.SA = SpatialAttention()
        self.CA = CALayer(channels, reduction, bias=False)
        self.conv1x1 = conv2d(channels * 2, channels, 1)

    def forward(self, x):
        res = self.body(x)
        return self.conv1x1(paddle.concat([self.SA(res), self.CA(res)], axis=1)) + x


class AntiAliasDownsample(nn.Layer):
    """Blur-then-subsample by 2 (Zhang, ICML 2019): reflect pad 1, depthwise 3x3 kernel
    [1,2,1]x[1,2,1]/16, stride 2. The kernel is a persistent buffer named ``filt`` because the
    official checkpoints store it."""

    def __init__(self, channels):
        super().__init__()
        taps = np.array([1.0, 2.0, 1.0])
        kernel = np.outer(taps, taps) / np.outer(taps, taps).sum()
        filt = np.tile(kernel, (channels, 1, 1, 1)).astype(np.float32)
        self.channels = channels
        self.register_buffer("filt", paddle.to_tensor(filt), persistable=True)

    def forward(self, x):
        padded = F.pad(x, [1, 1, 1, 1], mode="reflect")
        return F.conv2d(padded, self.filt, stride=2, groups=self.channels)


class ResidualDownSample(nn.Layer):
    """Halves H and W, doubles C: a learned path (1x1, PReLU, 3x3, PReLU, blur-down, 1x1) plus a
    shortcut (blur-down, 1x1)."""

    def __init__(self, channels):
        super().__init__()
        self.top = nn.Sequential(
            conv2d(channels, channels, 1), PReLU(), conv2d(channels, channels, 3), PReLU(),
            AntiAliasDownsample(channels), conv2d(channels, channels * 2, 1))
        self.bot = nn.Sequential(AntiAliasDownsample(channels), conv2d(channels, channels * 2, 1))

    def forward(self, x):
        return self.top(x) + self.bot(x)


def transposed_conv_x2(channels):
    """3x3 transposed conv, stride 2, padding 1, output_padding 1 (exactly doubles H and W),
    no bias, initialised like PyTorch's ConvTranspose2d."""
    return nn.Conv2DTranspose(
        channels, channels, 3, stride=2, padding=1, output_padding=1,
        weight_attr=paddle.ParamAttr(initializer=torch_default_conv_init()), bias_attr=False)


class ResidualUpSample(nn.Layer):
    """Doubles H and W, halves C: a learned path (1x1, PReLU, transposed conv, PReLU, 1x1) plus a
    shortcut (bilinear x2, 1x1)."""

    def __init__(self, channels):
        super().__init__()
        self.top = nn.Sequential(
            conv2d(channels, channels, 1), PReLU(), transposed_conv_x2(channels), PReLU(),
            conv2d(channels, channels // 2, 1))
        self.bot = nn.Sequential(UpsampleDouble(), conv2d(channels, channels // 2, 1))

    def forward(self, x):
        return self.top(x) + self.bot(x)


class ResampleChain(nn.Layer):
    """Several resampling steps in a row, held as ``body`` because the official keys read
    ``<name>.body.<step>.…`` (e.g. ``down.64_4.body.1.top.0.weight``)."""

    def __init__(self, steps):
        super().__init__()
        self.body = nn.Sequential(*steps)

    def forward(self, x):
        return self.body(x)


def down_chain(channels, scale):
    """Downsample by ``scale`` (a power of 2): channels double at every halving."""
    steps = int(math.log2(scale))
    return ResampleChain([ResidualDownSample(channels * 2**i) for i in range(steps)])


def up_chain(channels, scale):
    """Upsample by ``scale`` (a power of 2): channels halve at every doubling."""
    steps = int(math.log2(scale))
    return ResampleChain([ResidualUpSample(channels // 2**i) for i in range(steps)])


class MSRB(nn.Layer):
    """Multi-scale residual block: ``height`` streams x ``width`` columns of DAUs with SKFF
    exchange between columns, the streams upsampled and fused into the top one at the end,
    a 3x3 conv, plus the input."""

    def __init__(self, n_feat, height, width, bias, dau_act):
        super().__init__()
        self.height, self.width = height, width
        self.feats = [n_feat * 2**level for level in range(height)]
        self.blocks = nn.LayerList([nn.LayerList([DAU(c, dau_act)] * width) for c in self.feats])
        self.last_up = nn.LayerDict(
            [(str(level), up_chain(self.feats[level], 2**level)) for level in range(1, height)])
        # Key order as the official dicts: by source stream, largest step first
        # (down: 64_4, 64_2, 128_2; up: 256_4, 256_2, 128_2 for three streams).
        self.down = nn.LayerDict([
            (f"{self.feats[src]}_{2**steps}", down_chain(self.feats[src], 2**steps))
            for src in range(height) for steps in range(height - 1 - src, 0, -1)])
        self.up = nn.LayerDict([
            (f"{self.feats[src]}_{2**steps}", up_chain(self.feats[src], 2**steps))
            for src in reversed(range(height)) for steps in range(src, 0, -1)])
        self.conv_out = conv2d(n_feat, n_feat, 3, bias=bias)
        self.selective_kernel = nn.LayerList(
            [SKFF(c, height, PReLU()) for c in self.feats])

    def _resize(self, x, src, dst):
        """Bring stream ``src``'s features to stream ``dst``'s resolution and width."""
        if src == dst:
            return x
        table = self.down if dst > src else self.up
        return table[f"{self.feats[src]}_{2 ** abs(dst - src)}"](x)

    def forward(self, x):
        streams = [self.blocks[0][0](x)]
        for level in range(1, self.height):
            streams.append(self.blocks[level][0](self._resize(streams[-1], level - 1, level)))
        for column in range(1, self.width):
            fused = [self.selective_kernel[dst]([self._resize(s, src, dst) for src, s in
                                                 enumerate(streams)])
                     for dst in range(self.height)]
            streams = [self.blocks[level][column](f) for level, f in enumerate(fused)]
        to_top = [streams[0]] + [self.last_up[str(level)](streams[level])
                                 for level in range(1, self.height)]
        return self.conv_out(self.selective_kernel[0](to_top)) + x


class RRG(nn.Layer):
    """Recursive residual group: MSRBs, then a bias-free 3x3 conv, plus the input."""

    def __init__(self, n_feat, n_MSRB, height, width, bias, dau_act):
        super().__init__()
        blocks = [MSRB(n_feat, height, width, bias, dau_act) for _ in range(n_MSRB)]
        self.body = nn.Sequential(*blocks, conv2d(n_feat, n_feat, 3))

    def forward(self, x):
        return self.body(x) + x


def config_from_weights(state):
    """MIRNet options from the keys and shapes of a state dict (official key names); {} if not
    MIRNet's."""
    found = shapes(state, "conv_in.weight", "conv_out.weight")
    if found is None:
        return {}  # not MIRNet-shaped: loading will say what does not match
    first, out = found
    return {
        "in_channels": int(first[1]), "out_channels": int(out[0]), "n_feat": int(first[0]),
        "kernel_size": int(first[2]), "n_RRG": numbered_children(state, "body."),
        "n_MSRB": numbered_children(state, "body.0.body.") - 1,  # an RRG is n_MSRB MSRBs and a conv
        "height": numbered_children(state, "body.0.body.0.blocks."),
        "width": numbered_children(state, "body.0.body.0.blocks.0."), "bias": has_bias(state),
    }


@ARCHS.register("MIRNet")
class MIRNet(nn.Layer):
    """MIRNet v1 with the official defaults (used by every released checkpoint).
    ``forward(x)`` takes NCHW with H and W divisible by 4 and returns the restored image.
    ``stride`` is the channel multiplier between streams; the official resampling blocks
    hard-code 2, so only 2 is accepted."""

    size_multiple = 4
    scale = 1
    released_models = MIRNET_RELEASED
    config_from_weights = staticmethod(config_from_weights)

    def __init__(self, in_channels=3, out_channels=3, n_feat=64, kernel_size=3, stride=2, n_RRG=3,
                 n_MSRB=2, height=3, width=2, bias=False):
        super().__init__()
        if stride != 2:
            raise ConfigError(
                f"MIRNet supports stride=2 only (channels double per stream), got {stride}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.config = {"in_channels": in_channels, "out_channels": out_channels, "n_feat": n_feat,
                       "kernel_size": kernel_size, "stride": stride, "n_RRG": n_RRG,
                       "n_MSRB": n_MSRB, "height": height, "width": width, "bias": bias}
        # Not an attribute of the network: it has no key of its own, only the DAUs' aliases.
        dau_act = PReLU()
        self.conv_in = conv2d(in_channels, n_feat, kernel_size, bias=bias)
        self.body = nn.Sequential(
            *[RRG(n_feat, n_MSRB, height, width, bias, dau_act) for _ in range(n_RRG)])
        self.conv_out = conv2d(n_feat, out_channels, kernel_size, bias=bias)

    def forward(self, x):
        check_input(x, "MIRNet", self.in_channels, self.size_multiple)
        return self.conv_out(self.body(self.conv_in(x))) + x
