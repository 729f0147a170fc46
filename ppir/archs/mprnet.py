"""MPRNet (Zamir et al., CVPR 2021): multi-stage progressive image restoration.

Stage 1 restores 4 quarter patches, stage 2 the 2 half patches, stage 3 (ORSNet) the full image;
supervised attention modules (SAM) pass each stage's result on, and cross-stage feature fusion
(CSFF) feeds stage-1 features into stage 2's encoder. Layer names, widths and parameter order
follow the official PyTorch code, so official state dicts load by name with no renaming
(the 55 ``...body.1.weight`` keys all alias one PReLU parameter, as in the official model).

Two deliberate differences in *how* (not *what*) is computed, both exact up to float rounding:

* The patches of one stage go through the shared sub-networks as one batch (4N quarters, then
  2N halves) instead of one call per patch: every layer works per sample, so results equal the
  per-patch calls, and the CPU runs fewer, larger convolutions.
* ``UpSample`` applies its 1x1 conv before the bilinear x2 instead of after it. Both are linear,
  the conv mixes channels and the resampling mixes pixels, so they commute; convolving at the
  low resolution is 4x cheaper and resamples fewer channels.
"""
import paddle
from paddle import nn

from ..registry import ARCHS
from .common import PReLU, check_input, conv2d
from .model_index import match_name
from .released import MPRNET_RELEASED
from .state_shapes import has_bias, numbered_children, shapes
from .resample import DownsampleHalf, UpsampleDouble, upsample_double

# Released configurations: the constructor defaults of the official {task}/MPRNet.py.
MPRNET_TASKS = {
    "Deblurring": {"n_feat": 96, "scale_unetfeats": 48, "scale_orsnetfeats": 32},
    "Denoising": {"n_feat": 80, "scale_unetfeats": 48, "scale_orsnetfeats": 32},
    "Deraining": {"n_feat": 40, "scale_unetfeats": 20, "scale_orsnetfeats": 16},
}
DEFAULT_TASK = "Deblurring"


def canonical_task(task):
    """'deblurring' -> 'Deblurring'; unknown names raise a ConfigError listing the tasks."""
    return match_name(task, MPRNET_TASKS, "MPRNet task")


def config_from_weights(state):
    """MPRNet widths from the shapes of a state dict (official key names); {} if not MPRNet's."""
    found = shapes(state, "shallow_feat1.0.weight", "stage1_encoder.encoder_level2.0.body.0.weight",
                   "stage3_orsnet.orb1.body.0.body.0.weight", "shallow_feat1.1.CA.conv_du.0.weight")
    if found is None:
        return {}  # not MPRNet-shaped: loading will say what does not match
    first, level2, orsnet, squeezed = found
    tail = shapes(state, "tail.weight")  # missing (renamed?): the preset's, and loading names the key
    n_feat = first[0]
    return {
        "in_c": int(first[1]), "out_c": int(tail[0][0] if tail else first[1]), "n_feat": int(n_feat),
        "kernel_size": int(first[2]),
        "scale_unetfeats": int(level2[0] - n_feat), "scale_orsnetfeats": int(orsnet[0] - n_feat),
        "num_cab": numbered_children(state, "stage3_orsnet.orb1.body.") - 1,  # num_cab CABs + a conv
        "reduction": int(n_feat // squeezed[0]), "bias": has_bias(state),
    }


class CALayer(nn.Layer):
    """Channel attention: global average -> 1x1 squeeze -> ReLU -> 1x1 excite -> sigmoid gate."""

    def __init__(self, channels, reduction, bias):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2D(1)
        self.conv_du = nn.Sequential(
            conv2d(channels, channels // reduction, 1, bias=bias),
            nn.ReLU(),
            conv2d(channels // reduction, channels, 1, bias=bias),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return x * self.conv_du(self.avg_pool(x))


class CAB(nn.Layer):
    """Channel attention block: conv -> act -> conv -> CALayer, plus the input."""

    def __init__(self, channels, kernel_size, reduction, bias, act):
        super().__init__()
        # CA before body: the official module assigns them in this order, which fixes key order.
        self.CA = CALayer(channels, reduction, bias)
        self.body = nn.Sequential(
            conv2d(channels, channels, kernel_size, bias=bias),
            act,
            conv2d(channels, channels, kernel_size, bias=bias),
        )

    def forward(self, x):
        return self.CA(self.body(x)) + x


def cab_stack(count, channels, kernel_size, reduction, bias, act):
    return nn.Sequential(*[CAB(channels, kernel_size, reduction, bias, act) for _ in range(count)])


class DownSample(nn.Layer):
    """Bilinear x0.5, then a 1x1 conv widening ``channels`` by ``extra``."""

    def __init__(self, channels, extra):
        super().__init__()
        self.down = nn.Sequential(DownsampleHalf(), conv2d(channels, channels + extra, 1))

    def forward(self, x):
        return self.down(x)


class UpSample(nn.Layer):
    """Bilinear x2 with a 1x1 conv narrowing ``channels + extra`` to ``channels``.

    ``up`` keeps the official layout (resample at index 0, conv at 1) for the key names; forward
    runs the conv first (see the module docstring).
    """

    def __init__(self, channels, extra):
        super().__init__()
        self.up = nn.Sequential(UpsampleDouble(), conv2d(channels + extra, channels, 1))

    def forward(self, x):
        return upsample_double(self.up[1](x))


class SkipUpSample(UpSample):
    """``UpSample`` plus a skip connection."""

    def forward(self, x, skip):
        return super().forward(x) + skip


class Encoder(nn.Layer):
    """Three-level U-Net encoder; with ``csff`` it adds the previous stage's encoder and decoder
    features (through 1x1 convs) at every level."""

    def __init__(self, n_feat, kernel_size, reduction, act, bias, scale_unetfeats, csff):
        super().__init__()
        widths = [n_feat + i * scale_unetfeats for i in range(3)]
        for level, width in enumerate(widths, start=1):
            stack = cab_stack(2, width, kernel_size, reduction, bias, act)
            setattr(self, f"encoder_level{level}", stack)
        self.down12 = DownSample(widths[0], scale_unetfeats)
        self.down23 = DownSample(widths[1], scale_unetfeats)
        self.csff = csff
        if csff:
            for kind in ("enc", "dec"):
                for level, width in enumerate(widths, start=1):
                    setattr(self, f"csff_{kind}{level}", conv2d(width, width, 1, bias=bias))

    def forward(self, x, encoder_outs=None, decoder_outs=None):
        levels = [self.encoder_level1, self.encoder_level2, self.encoder_level3]
        downs = [self.down12, self.down23]
        fuse_enc = [self.csff_enc1, self.csff_enc2, self.csff_enc3] if self.csff else None
        fuse_dec = [self.csff_dec1, self.csff_dec2, self.csff_dec3] if self.csff else None
        outs = []
        for i in range(3):
            if i:
                x = downs[i - 1](x)
            x = levels[i](x)
            if self.csff:
                x = x + fuse_enc[i](encoder_outs[i]) + fuse_dec[i](decoder_outs[i])
            outs.append(x)
        return outs


class Decoder(nn.Layer):
    """Three-level U-Net decoder with CAB-attended skips; returns features finest first."""

    def __init__(self, n_feat, kernel_size, reduction, act, bias, scale_unetfeats):
        super().__init__()
        widths = [n_feat + i * scale_unetfeats for i in range(3)]
        for level, width in enumerate(widths, start=1):
            stack = cab_stack(2, width, kernel_size, reduction, bias, act)
            setattr(self, f"decoder_level{level}", stack)
        self.skip_attn1 = CAB(widths[0], kernel_size, reduction, bias, act)
        self.skip_attn2 = CAB(widths[1], kernel_size, reduction, bias, act)
        self.up21 = SkipUpSample(widths[0], scale_unetfeats)
        self.up32 = SkipUpSample(widths[1], scale_unetfeats)

    def forward(self, encoder_outs):
        enc1, enc2, enc3 = encoder_outs
        dec3 = self.decoder_level3(enc3)
        dec2 = self.decoder_level2(self.up32(dec3, self.skip_attn2(enc2)))
        dec1 = self.decoder_level1(self.up21(dec2, self.skip_attn1(enc1)))
        return [dec1, dec2, dec3]


class ORB(nn.Layer):
    """Original-resolution block: ``num_cab`` CABs and a conv, plus the input."""

    def __init__(self, channels, kernel_size, reduction, act, bias, num_cab):
        super().__init__()
        blocks = [CAB(channels, kernel_size, reduction, bias, act) for _ in range(num_cab)]
        # The official tail conv has no bias whatever ``bias`` says.
        self.body = nn.Sequential(*blocks, conv2d(channels, channels, kernel_size))

    def forward(self, x):
        return self.body(x) + x


class ORSNet(nn.Layer):
    """Stage 3: three ORBs at full resolution, each followed by the injected stage-2 encoder and
    decoder features (upsampled to full resolution, then 1x1 convs)."""

    def __init__(self, n_feat, scale_orsnetfeats, kernel_size, reduction, act, bias,
                 scale_unetfeats, num_cab):
        super().__init__()
        width = n_feat + scale_orsnetfeats
        for i in (1, 2, 3):
            setattr(self, f"orb{i}", ORB(width, kernel_size, reduction, act, bias, num_cab))
        self.up_enc1 = UpSample(n_feat, scale_unetfeats)
        self.up_dec1 = UpSample(n_feat, scale_unetfeats)
        for name in ("up_enc2", "up_dec2"):
            setattr(self, name, nn.Sequential(
                UpSample(n_feat + scale_unetfeats, scale_unetfeats),
                UpSample(n_feat, scale_unetfeats),
            ))
        for kind in ("enc", "dec"):
            for i in (1, 2, 3):
                setattr(self, f"conv_{kind}{i}", conv2d(n_feat, width, 1, bias=bias))

    def forward(self, x, encoder_outs, decoder_outs):
        orbs = [self.orb1, self.orb2, self.orb3]
        up_enc = [None, self.up_enc1, self.up_enc2]
        up_dec = [None, self.up_dec1, self.up_dec2]
        conv_enc = [self.conv_enc1, self.conv_enc2, self.conv_enc3]
        conv_dec = [self.conv_dec1, self.conv_dec2, self.conv_dec3]
        for i in range(3):
            x = orbs[i](x)
            enc, dec = encoder_outs[i], decoder_outs[i]
            if i:
                enc, dec = up_enc[i](enc), up_dec[i](dec)
            x = x + conv_enc[i](enc) + conv_dec[i](dec)
        return x


class SAM(nn.Layer):
    """Supervised attention module: predicts this stage's image (features -> RGB + input) and
    gates the features with attention computed from that image. All convs are 1x1."""

    def __init__(self, n_feat, out_c, bias):
        super().__init__()
        self.conv1 = conv2d(n_feat, n_feat, 1, bias=bias)
        self.conv2 = conv2d(n_feat, out_c, 1, bias=bias)
        self.conv3 = conv2d(out_c, n_feat, 1, bias=bias)

    def forward(self, x, x_img):
        img = self.conv2(x) + x_img
        gate = paddle.nn.functional.sigmoid(self.conv3(img))
        return self.conv1(x) * gate + x, img


def _split_batch(x, parts):
    return paddle.split(x, parts, axis=0)


def _halves_to_batch(x):
    """(N, C, H, W) -> (2N, C, H/2, W): top halves, then bottom halves."""
    return paddle.concat(paddle.split(x, 2, axis=2), axis=0)


def _quarters_to_batch(x):
    """(N, C, H, W) -> (4N, C, H/2, W/2): left-top, right-top, left-bottom, right-bottom."""
    return paddle.concat(paddle.split(_halves_to_batch(x), 2, axis=3), axis=0)


def _join_left_right(x):
    """Inverse of the W split in ``_quarters_to_batch``: (4N, ...) -> (2N, ..., 2W)."""
    left, right = _split_batch(x, 2)
    return paddle.concat([left, right], axis=3)


def _join_top_bottom(x):
    """Inverse of ``_halves_to_batch``: (2N, C, H, W) -> (N, C, 2H, W)."""
    return paddle.concat(_split_batch(x, 2), axis=2)


@ARCHS.register("MPRNet")
class MPRNet(nn.Layer):
    """MPRNet. ``task`` ('Deblurring', 'Denoising', 'Deraining', any case) picks the released
    widths from ``MPRNET_TASKS``; explicit widths override it; with neither, the Deblurring
    widths are used. ``forward(x)`` takes NCHW with H and W divisible by 8 and returns
    ``[final, stage2, stage1]``, all full-size images (residual on the input)."""

    size_multiple = 8
    scale = 1
    released_models = MPRNET_RELEASED
    config_from_weights = staticmethod(config_from_weights)

    def __init__(self, in_c=3, out_c=3, n_feat=None, scale_unetfeats=None, scale_orsnetfeats=None,
                 num_cab=8, kernel_size=3, reduction=4, bias=False, task=None):
        super().__init__()
        self.task = canonical_task(task) if task is not None else None
        preset = MPRNET_TASKS[self.task or DEFAULT_TASK]
        n_feat = preset["n_feat"] if n_feat is None else n_feat
        s_unet = preset["scale_unetfeats"] if scale_unetfeats is None else scale_unetfeats
        s_ors = preset["scale_orsnetfeats"] if scale_orsnetfeats is None else scale_orsnetfeats
        self.in_c = self.in_channels = in_c
        self.out_channels = out_c
        self.config = {"in_c": in_c, "out_c": out_c, "n_feat": n_feat, "scale_unetfeats": s_unet,
                       "scale_orsnetfeats": s_ors, "num_cab": num_cab, "kernel_size": kernel_size,
                       "reduction": reduction, "bias": bias}

        # One PReLU shared by every CAB, as in the official model (a local there, so it has no
        # top-level key; it appears under each CAB's body.1).
        act = PReLU()
        k, r = kernel_size, reduction
        for i in (1, 2, 3):
            setattr(self, f"shallow_feat{i}", nn.Sequential(
                conv2d(in_c, n_feat, k, bias=bias), CAB(n_feat, k, r, bias, act)))
        self.stage1_encoder = Encoder(n_feat, k, r, act, bias, s_unet, csff=False)
        self.stage1_decoder = Decoder(n_feat, k, r, act, bias, s_unet)
        self.stage2_encoder = Encoder(n_feat, k, r, act, bias, s_unet, csff=True)
        self.stage2_decoder = Decoder(n_feat, k, r, act, bias, s_unet)
        self.stage3_orsnet = ORSNet(n_feat, s_ors, k, r, act, bias, s_unet, num_cab)
        self.sam12 = SAM(n_feat, out_c, bias)
        self.sam23 = SAM(n_feat, out_c, bias)
        self.concat12 = conv2d(n_feat * 2, n_feat, k, bias=bias)
        self.concat23 = conv2d(n_feat * 2, n_feat + s_ors, k, bias=bias)
        self.tail = conv2d(n_feat + s_ors, out_c, k, bias=bias)

    def forward(self, x):
        check_input(x, "MPRNet", self.in_c, self.size_multiple)
        halves_img = _halves_to_batch(x)

        # Stage 1: 4 quarters in one batch; features re-joined into top/bottom halves.
        feat1 = self.stage1_encoder(self.shallow_feat1(_quarters_to_batch(x)))
        feat1 = [_join_left_right(f) for f in feat1]
        res1 = self.stage1_decoder(feat1)
        sam_feat12, stage1_img = self.sam12(res1[0], halves_img)

        # Stage 2: 2 halves in one batch, fused with stage-1 results; re-joined to full size.
        x2 = self.concat12(paddle.concat([self.shallow_feat2(halves_img), sam_feat12], axis=1))
        feat2 = self.stage2_encoder(x2, feat1, res1)
        feat2 = [_join_top_bottom(f) for f in feat2]
        res2 = self.stage2_decoder(feat2)
        sam_feat23, stage2_img = self.sam23(res2[0], x)

        # Stage 3: full resolution.
        x3 = self.concat23(paddle.concat([self.shallow_feat3(x), sam_feat23], axis=1))
        x3 = self.stage3_orsnet(x3, feat2, res2)
        return [self.tail(x3) + x, stage2_img, _join_top_bottom(stage1_img)]
