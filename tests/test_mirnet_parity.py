"""MIRNetV2 / MIRNet outputs equal the official PyTorch models' on the same weights and input.

The fixtures hold small official models (torch state dicts, in the released checkpoint formats:
``{'params': ...}`` for v2, ``{'epoch', 'state_dict'}`` for v1), their config, one photo crop
and the official output. Both resampling modes (plain interpolate and the export-friendly
convolution form) must reproduce it.
"""
import json
from pathlib import Path

import numpy as np
import paddle
import pytest

from ppir.archs import build_arch, resample
from ppir.weights import load_weights

FIXTURES = Path(__file__).parent / "fixtures"
CASES = ["mirnetv2_small", "mirnetv2_small_defocus", "mirnet_small"]


def loaded(case):
    spec = json.loads((FIXTURES / f"{case}.json").read_text())
    net = build_arch({"name": spec["arch"], **spec["config"]})
    load_weights(net, str(FIXTURES / f"{case}.pth"))
    net.eval()
    return net, spec


@pytest.mark.parametrize("mode", resample.MODES)
@pytest.mark.parametrize("case", CASES)
def test_output_matches_official(case, mode):
    net, spec = loaded(case)
    arrays = np.load(FIXTURES / f"{case}.npz")
    reference = arrays["output0"]
    assert list(reference.shape) == spec["outputs"][0]
    with resample.use_mode(mode), paddle.no_grad():
        out = net(paddle.to_tensor(arrays["input"])).numpy()
    assert out.shape == reference.shape
    assert np.abs(out - reference).max() <= 1e-5 * np.abs(reference).max()


def test_loaded_v1_keeps_its_sharing():
    net, _ = loaded("mirnet_small")
    state = net.state_dict()
    first = "body.0.body.0.blocks.0.0.body.0.weight"
    state[first].set_value(paddle.zeros_like(state[first]))
    second = net.state_dict()["body.0.body.0.blocks.0.1.body.0.weight"]
    np.testing.assert_array_equal(second.numpy(), 0)


@pytest.mark.parametrize("case", CASES)
def test_parameter_count_matches_official(case):
    net, spec = loaded(case)
    assert sum(int(np.prod(p.shape)) for p in net.parameters()) == spec["params"]
