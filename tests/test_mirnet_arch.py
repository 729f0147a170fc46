"""MIRNetV2 and MIRNet (v1) architectures: official key names/order/shapes, parameter counts,
weight sharing, task presets and input checks. Full-size networks are only built, never run
(too slow for CI); forward passes use tiny configurations."""
import functools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import paddle
import pytest

from ppir.archs import build_arch
from ppir.archs.mirnet import MIRNet
from ppir.archs.mirnet_v2 import MIRNETV2_TASKS, MIRNetV2
from ppir.errors import ConfigError
from ppir.registry import ARCHS

KEYS_DIR = Path(__file__).parent / "fixtures" / "official_keys"

# official_keys/<dump>.json -> the config that builds the same network here.
FULL_SIZE = {
    "MIRNetv2_real_denoising": {"name": "MIRNetV2", "task": "real_denoising"},
    "MIRNetv2_enhancement": {"name": "MIRNetV2", "task": "enhancement_lol"},
    "MIRNetv2_super_resolution_x4": {"name": "MIRNetV2", "task": "sr_x4"},
    "MIRNetv2_defocus": {"name": "MIRNetV2", "task": "defocus_deblurring"},
    "MIRNet_v1": {"name": "MIRNet"},
}
TINY_V2 = {"n_feat": 16, "n_MRB": 1}
TINY_V1 = {"n_feat": 16, "n_RRG": 1, "n_MSRB": 1}

@functools.lru_cache(maxsize=None)
def full_size(dump):
    """Built once per dump; tests that change weights use their own networks."""
    return build_arch(FULL_SIZE[dump])


def parameter_count(net):
    """Numbers in the parameters, each shared tensor counted once (as PyTorch's dump did)."""
    return sum(int(np.prod(p.shape)) for p in net.parameters())


def official(dump):
    return json.loads((KEYS_DIR / f"{dump}.json").read_text())


def alias_groups(state_dict):
    """Lists of keys that name one tensor (only groups of two or more)."""
    by_tensor = {}
    for key, tensor in state_dict.items():
        by_tensor.setdefault(id(tensor), []).append(key)
    return [keys for keys in by_tensor.values() if len(keys) > 1]


def image(channels, height, width, seed=0):
    rng = np.random.default_rng(seed)
    return paddle.to_tensor(rng.random((1, channels, height, width), dtype=np.float32))


def test_importing_the_package_registers_both_architectures():
    # A fresh interpreter: this module's own imports must not be what registers them.
    code = "import ppir.archs, ppir.registry as r; print(r.ARCHS.names())"
    names = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, cwd=Path(__file__).parent.parent).stdout
    assert "'MIRNet'" in names and "'MIRNetV2'" in names
    assert ARCHS.get("MIRNetV2") is MIRNetV2 and ARCHS.get("MIRNet") is MIRNet


@pytest.mark.parametrize("dump", sorted(FULL_SIZE))
def test_state_dict_keys_order_and_shapes_equal_official(dump):
    ref = official(dump)
    ours = [[key, list(tensor.shape)] for key, tensor in full_size(dump).state_dict().items()]
    assert ours == ref["keys"]


@pytest.mark.parametrize("dump", sorted(FULL_SIZE))
def test_buffers_and_parameter_counts_equal_official(dump):
    ref, net = official(dump), full_size(dump)
    state = net.state_dict()
    assert [name for name, _ in net.named_buffers()] == ref["buffer_keys"]
    assert parameter_count(net) == ref["params"]
    assert len({id(t) for t in state.values()}) == ref["state_dict_num_unique_tensors"]
    groups = alias_groups(state)
    assert sorted(len(g) for g in groups) == sorted(ref["alias_groups_sizes"])
    for example in ref["alias_groups_examples"]:
        listed = [key for key in example if key != "..."]
        assert any(set(listed) <= set(group) for group in groups), example


def test_published_parameter_counts():
    assert parameter_count(full_size("MIRNetv2_real_denoising")) == 5_858_560
    assert parameter_count(full_size("MIRNetv2_defocus")) == 5_860_720
    assert parameter_count(full_size("MIRNet_v1")) == 31_787_419


def test_v1_antialias_buffers_hold_the_binomial_kernel():
    state = full_size("MIRNet_v1").state_dict()
    filt = state["body.0.body.0.down.64_4.body.1.top.4.filt"].numpy()
    taps = np.array([1.0, 2.0, 1.0])
    assert filt.shape == (128, 1, 3, 3)
    np.testing.assert_allclose(filt, np.broadcast_to(np.outer(taps, taps) / 16, filt.shape))


def test_v1_aliased_keys_are_one_tensor():
    net = MIRNet(**TINY_V1)
    net.state_dict()["body.0.body.0.blocks.1.0.conv1x1.weight"].set_value(
        paddle.full([32, 64, 1, 1], 0.125))
    state = net.state_dict()
    np.testing.assert_array_equal(state["body.0.body.0.blocks.1.1.conv1x1.weight"].numpy(), 0.125)
    # The DAUs of the other streams are not shared with it.
    assert not np.all(state["body.0.body.0.blocks.0.1.conv1x1.weight"].numpy() == 0.125)


def test_v1_one_prelu_serves_every_dau_and_nothing_else():
    net = MIRNet(n_feat=8)  # all 3 groups x 2 blocks x 3 streams, small
    state = net.state_dict()
    state["body.0.body.0.blocks.0.0.body.1.weight"].set_value(paddle.to_tensor([0.75]))
    state = net.state_dict()
    dau_prelus = [k for k in state if ".blocks." in k and k.endswith("body.1.weight")]
    assert len(dau_prelus) == 36
    assert all(state[k].item() == 0.75 for k in dau_prelus)
    assert state["body.2.body.1.selective_kernel.0.conv_du.1.weight"].item() == 0.25
    assert state["body.0.body.0.down.8_2.body.0.top.1.weight"].item() == 0.25


def test_v1_prelu_is_not_shared_between_networks():
    first, second = MIRNet(**TINY_V1), MIRNet(**TINY_V1)
    key = "body.0.body.0.blocks.0.0.body.1.weight"
    first.state_dict()[key].set_value(paddle.to_tensor([0.5]))
    assert second.state_dict()[key].item() == 0.25


def test_v2_reuses_rcb_and_skff_in_both_rounds_without_duplicate_keys():
    net = MIRNetV2(**TINY_V2)
    assert alias_groups(net.state_dict()) == []
    mrb = net.body[0].body[0]
    calls = {"dau_top": 0, "dau_bot": 0, "skff_mid": 0, "up32_1": 0, "up32_2": 0}
    for name in calls:
        def count(layer, inputs, output, name=name):
            calls[name] += 1
        getattr(mrb, name).register_forward_post_hook(count)
    net(image(3, 16, 16))
    assert calls == {"dau_top": 2, "dau_bot": 2, "skff_mid": 2, "up32_1": 1, "up32_2": 1}


def test_v2_tasks_and_weight_files():
    assert set(MIRNETV2_TASKS) == {"real_denoising", "enhancement_lol", "enhancement_fivek",
                                   "sr_x2", "sr_x3", "sr_x4", "defocus_deblurring"}
    assert MIRNETV2_TASKS["defocus_deblurring"]["weights"] == "dual_pixel_defocus_deblurring.pth"
    assert MIRNETV2_TASKS["sr_x3"]["weights"] == "sr_x3.pth"
    assert MIRNETV2_TASKS["sr_x3"]["kwargs"]["scale"] == 3
    for task, preset in MIRNETV2_TASKS.items():
        net = MIRNetV2(**{**preset["kwargs"], **TINY_V2}, task=task)
        assert net.conv_in.weight.shape[1] == (6 if task == "defocus_deblurring" else 3)


def test_defocus_task_defaults_to_six_channels_unless_given():
    assert build_arch({"name": "MIRNetV2", "task": "defocus_deblurring", **TINY_V2}) \
        .conv_in.weight.shape == [16, 6, 3, 3]
    assert MIRNetV2(inp_channels=3, task="defocus_deblurring", **TINY_V2) \
        .conv_in.weight.shape == [16, 3, 3, 3]
    assert MIRNetV2(**TINY_V2).conv_in.weight.shape == [16, 3, 3, 3]


def test_unused_official_arguments_change_nothing():
    plain = MIRNetV2(**TINY_V2).state_dict()
    odd = MIRNetV2(n_RRG=2, height=5, width=7, scale=4, **TINY_V2).state_dict()
    assert [(k, v.shape) for k, v in odd.items()] == [(k, v.shape) for k, v in plain.items()]


def test_unknown_task_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown MIRNetV2 task 'denoise'.*real_denoising"):
        MIRNetV2(task="denoise")


@pytest.mark.parametrize("task", ["super_resolution", "contrast_enhancement", "lowlight_enhancement"])
def test_official_demo_task_names_build_the_plain_network(task):
    """The official demo.py passes these to the network: a 3-channel, image-residual MIRNetV2."""
    params = {"inp_channels": 3, "out_channels": 3, "n_feat": 16, "chan_factor": 1.5, "n_RRG": 4,
              "n_MRB": 1, "height": 3, "width": 2, "bias": False, "scale": 1, "task": task}
    net, plain = build_arch({"name": "MIRNetV2", **params}), build_arch({"name": "MIRNetV2", **{**params, "task": None}})
    plain.set_state_dict(net.state_dict())
    x = paddle.rand([1, 3, 8, 12])
    np.testing.assert_array_equal(net(x).numpy(), plain(x).numpy())


def test_widths_that_do_not_fit_together_are_rejected():
    with pytest.raises(ValueError, match="n_feat=17"):
        MIRNetV2(n_feat=17, n_MRB=1)
    with pytest.raises(ValueError, match="stride=2"):
        MIRNet(stride=3, **TINY_V1)


@pytest.mark.parametrize("net", [MIRNetV2(**TINY_V2), MIRNet(**TINY_V1)],
                         ids=["MIRNetV2", "MIRNet"])
@pytest.mark.parametrize("size", [(34, 32), (32, 30), (33, 33)])
def test_sizes_not_divisible_by_4_are_rejected(net, size):
    assert type(net).size_multiple == 4
    with pytest.raises(ValueError, match="divisible by 4"):
        net(image(3, *size))


def test_wrong_channel_count_is_rejected():
    with pytest.raises(ValueError, match="expects 6 input channels, got 3"):
        MIRNetV2(task="defocus_deblurring", **TINY_V2)(image(3, 16, 16))


@pytest.mark.parametrize("make", [lambda: MIRNetV2(**TINY_V2), lambda: MIRNet(**TINY_V1)],
                         ids=["MIRNetV2", "MIRNet"])
def test_image_residual(make):
    net = make()
    x = image(3, 32, 48)
    out = net(x)
    assert out.shape == [1, 3, 32, 48] and np.isfinite(out.numpy()).all()
    assert not np.allclose(out.numpy(), x.numpy())
    # With conv_out zeroed only the residual remains: the output is the input image.
    net.conv_out.weight.set_value(paddle.zeros_like(net.conv_out.weight))
    np.testing.assert_array_equal(net(x).numpy(), x.numpy())


def test_defocus_has_no_image_residual():
    net = MIRNetV2(task="defocus_deblurring", **TINY_V2)
    x = image(6, 16, 20)
    assert net(x).shape == [1, 3, 16, 20]
    net.conv_out.weight.set_value(paddle.zeros_like(net.conv_out.weight))
    np.testing.assert_array_equal(net(x).numpy(), 0.0)
