import json
from pathlib import Path

import numpy as np
import paddle
import pytest
from paddle.static import InputSpec

from ppir.archs import build_arch, resample
from ppir.archs.mprnet import MPRNET_TASKS, MPRNet
from ppir.errors import ConfigError

OFFICIAL_KEYS = Path(__file__).parent / "fixtures" / "official_keys"
TINY = {"name": "MPRNet", "n_feat": 16, "scale_unetfeats": 8, "scale_orsnetfeats": 8, "num_cab": 2}


def unique_parameter_count(net):
    return sum(int(np.prod(p.shape)) for p in net.parameters())


def prelu_keys(state_dict):
    return [k for k in state_dict if k.endswith("body.1.weight")]


def tiny_net(seed=0):
    paddle.seed(seed)
    net = build_arch(TINY)
    net.eval()
    return net


def random_images(shape, seed=0):
    return paddle.to_tensor(np.random.default_rng(seed).random(shape, dtype=np.float32))


@pytest.mark.parametrize("task", sorted(MPRNET_TASKS))
def test_state_dict_and_parameter_count_equal_the_official_model(task):
    official = json.loads((OFFICIAL_KEYS / f"MPRNet_{task}.json").read_text())
    net = build_arch({"name": "MPRNet", "task": task})
    ours = [[name, list(value.shape)] for name, value in net.state_dict().items()]
    assert ours == official["keys"]
    assert unique_parameter_count(net) == official["params"]
    assert len(prelu_keys(net.state_dict())) == 55


def test_every_cab_shares_one_prelu_parameter():
    net = tiny_net()
    assert sum(1 for p in net.parameters() if list(p.shape) == [1]) == 1
    shared = dict(net.named_parameters())["shallow_feat1.1.body.1.weight"]
    shared.set_value(paddle.to_tensor([0.7]))
    state = net.state_dict()
    keys = prelu_keys(state)
    # 3 shallow + 2x(6 encoder + 8 decoder) + 3 ORBs x num_cab CABs (55 at the released num_cab=8)
    assert len(keys) == 31 + 3 * TINY["num_cab"]
    assert all(np.allclose(state[k].numpy(), 0.7) for k in keys)


def test_forward_returns_final_stage2_stage1_at_input_size():
    x = random_images([1, 3, 64, 96])
    with paddle.no_grad():
        outs = tiny_net()(x)
    assert isinstance(outs, list) and len(outs) == 3
    for out in outs:
        assert list(out.shape) == [1, 3, 64, 96]
        assert np.isfinite(out.numpy()).all()
    # Each stage predicts a residual on the input, so the outputs differ from each other.
    assert float((outs[0] - outs[1]).abs().max()) > 0
    assert float((outs[1] - outs[2]).abs().max()) > 0


def test_images_in_a_batch_do_not_mix():
    """Patches of all images go through shared sub-networks as one batch; each image's result
    must equal running it alone."""
    net = tiny_net()
    batch = random_images([2, 3, 32, 48], seed=1)
    with paddle.no_grad():
        together = net(batch)
        alone = [net(batch[i:i + 1]) for i in range(2)]
    for stage in range(3):
        for i in range(2):
            diff = (together[stage][i:i + 1] - alone[i][stage]).abs().max()
            assert float(diff) <= 1e-5


def test_conv_resampling_gives_the_same_outputs():
    net = tiny_net()
    x = random_images([1, 3, 64, 96])
    with paddle.no_grad():
        interp = net(x)
        with resample.export_friendly():
            conv = net(x)
    for a, b in zip(interp, conv):
        assert float((a - b).abs().max()) <= 1e-5 * float(a.abs().max())


def test_export_in_conv_mode_has_no_bilinear_op_and_keeps_the_outputs():
    net = tiny_net()
    x = random_images([1, 3, 32, 48])
    with paddle.no_grad():
        expected = net(x)
    traced = tiny_net()
    traced.set_state_dict(net.state_dict())
    with resample.export_friendly():
        static = paddle.jit.to_static(
            traced, input_spec=[InputSpec([None, 3, None, None], "float32")], full_graph=True)
        outs = static(x)
        program = static.forward.concrete_program.main_program
    assert "pd_op.bilinear_interp" not in {op.name() for op in program.global_block().ops}
    for a, b in zip(outs, expected):
        assert float((a - b).abs().max()) <= 1e-5 * float(b.abs().max())


@pytest.mark.parametrize("height, width", [(65, 96), (64, 100)])
def test_sizes_not_divisible_by_8_are_rejected_with_a_clear_message(height, width):
    message = (f"MPRNet needs height and width divisible by 8, got {height}x{width}; "
               f"pad the input \\(predictors do this\\)")
    with pytest.raises(ValueError, match=message):
        tiny_net()(paddle.zeros([1, 3, height, width]))
    assert MPRNet.size_multiple == 8


def test_wrong_channel_count_is_rejected():
    with pytest.raises(ValueError, match="MPRNet expects 3 input channels, got 4"):
        tiny_net()(paddle.zeros([1, 4, 64, 64]))


def test_unknown_task_lists_the_tasks():
    with pytest.raises(ConfigError, match="unknown MPRNet task 'Dehazing'; choose one of "
                                          "Deblurring, Denoising, Deraining"):
        build_arch({"name": "MPRNet", "task": "Dehazing"})


def test_unknown_architecture_lists_the_registered_ones():
    with pytest.raises(KeyError, match="unknown architecture 'MPRNett'.*MPRNet"):
        build_arch({"name": "MPRNett"})


def width_of(net, key):
    return list(net.state_dict()[key].shape)


def test_task_is_case_insensitive_and_explicit_widths_override_it():
    net = build_arch({"name": "MPRNet", "task": "deraining", "n_feat": 24, "num_cab": 1})
    assert net.task == "Deraining"
    assert width_of(net, "shallow_feat1.0.weight") == [24, 3, 3, 3]
    # scale_unetfeats (20) and scale_orsnetfeats (16) still come from the Deraining preset.
    assert width_of(net, "stage1_encoder.down12.down.1.weight") == [44, 24, 1, 1]
    assert width_of(net, "tail.weight") == [3, 40, 3, 3]


def test_without_task_or_widths_the_deblurring_widths_are_used():
    net = MPRNet(num_cab=1)
    assert net.task is None
    assert {k: net.config[k] for k in MPRNET_TASKS["Deblurring"]} == MPRNET_TASKS["Deblurring"]
