"""MPRNet loaded from the official PyTorch file and from the PaddleGAN file reproduces the
reference outputs (computed by the official PyTorch model) for all three stages."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import paddle
import pytest

from ppir.archs import build_arch
from ppir.weights import load_weights, read_state_dict

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
CONFIG = json.loads((FIXTURES / "mprnet_small.json").read_text())
REFERENCE = np.load(FIXTURES / "mprnet_small.npz")
TOLERANCE = 1e-5  # relative to the largest reference magnitude of each output


def small_mprnet():
    return build_arch({"name": CONFIG["arch"], **CONFIG["config"]})


def assert_matches_reference(net):
    net.eval()
    with paddle.no_grad():
        outputs = net(paddle.to_tensor(REFERENCE["input"]))
    assert len(outputs) == 3
    for stage, output in enumerate(outputs):
        expected = REFERENCE[f"output{stage}"]
        scale = np.abs(expected).max()
        error = np.abs(output.numpy() - expected).max()
        assert error <= TOLERANCE * scale, f"output{stage}: max error {error:.3g} vs scale {scale:.3g}"


@pytest.mark.parametrize("weights", ["mprnet_small.pth", "mprnet_small_paddlegan.pdparams"])
def test_outputs_match_the_official_model(weights):
    net = small_mprnet()
    load_weights(net, FIXTURES / weights)
    assert_matches_reference(net)


def test_shared_prelu_gets_the_files_single_value():
    """37 keys of the small net alias one PReLU; PaddleGAN names them ``_weight``, ours ``weight``."""
    net = small_mprnet()
    load_weights(net, FIXTURES / "mprnet_small_paddlegan.pdparams")
    paddlegan = read_state_dict(FIXTURES / "mprnet_small_paddlegan.pdparams")
    prelu_keys = [k for k in paddlegan if k.endswith("._weight")]
    assert len(prelu_keys) == 37
    net_state = net.state_dict()
    prelu = net_state[prelu_keys[0][: -len("_weight")] + "weight"]
    assert all(net_state[k[: -len("_weight")] + "weight"] is prelu for k in prelu_keys)
    np.testing.assert_array_equal(prelu.numpy(), paddlegan[prelu_keys[0]])


def test_converted_file_loads_with_plain_paddle_and_matches(tmp_path):
    converted = tmp_path / "mprnet_small.pdparams"
    options = [f"{key}={value}" for key, value in CONFIG["config"].items() if key != "task"]
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "convert_weights.py"), "--src", str(FIXTURES / "mprnet_small.pth"),
         "--dst", str(converted), "--arch", "MPRNet", "--task", CONFIG["config"]["task"], "--opt", *options],
        check=True, capture_output=True, cwd=tmp_path,
    )
    net = small_mprnet()
    net.set_state_dict(paddle.load(str(converted)))
    assert_matches_reference(net)


def test_official_pth_loads_where_torch_cannot_be_imported():
    """Reading a .pth never needs torch: in a process where ``import torch`` fails (as on a
    machine without it, even if this one has it), the official file still loads and matches."""
    script = (
        "import sys\n"
        "sys.modules['torch'] = None  # any 'import torch' now raises ImportError\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import test_mprnet_parity as t\n"
        "net = t.small_mprnet()\n"
        "t.load_weights(net, t.FIXTURES / 'mprnet_small.pth')\n"
        "t.assert_matches_reference(net)\n"
        "print('loaded without torch')\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(ROOT / "tests")], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("loaded without torch")
