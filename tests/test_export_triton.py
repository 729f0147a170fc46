"""``tools/export_model.py --format triton``: a Triton model repository (ONNX model + config.pbtxt
with dynamic batch, height and width) whose model, run by ONNX Runtime, is the network. No Triton
server runs here: the repository's layout and configuration are checked as text."""
import os
import re
import subprocess
import sys

import numpy as np
import paddle
import pytest

from ppir.archs import build_arch
from apps_fixtures import TINY_MPRNET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPORT = os.path.join(ROOT, "tools", "export_model.py")


def export(*args):
    return subprocess.run([sys.executable, EXPORT, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def tiny(module_home, tmp_path_factory):
    paddle.seed(11)
    net = build_arch(TINY_MPRNET)
    path = tmp_path_factory.mktemp("triton") / "tiny.pdparams"
    paddle.save(net.state_dict(), str(path))
    net.eval()
    return net, str(path)


def test_triton_repository_runs_the_network_at_any_batch_and_size(tiny, tmp_path):
    net, weights = tiny
    out = tmp_path / "models"
    done = export("--arch", "MPRNet", "--task", "Deraining", "--weight_path", weights, "--output", out,
                  "--format", "triton")
    assert done.returncode == 0, done.stderr[-3000:]
    model = out / "mprnet_deraining"
    assert sorted(os.listdir(out)) == ["mprnet_deraining"]
    assert sorted(os.listdir(model)) == ["1", "config.pbtxt"] and os.listdir(model / "1") == ["model.onnx"]
    assert f"Triton model repository: {model}/config.pbtxt" in done.stdout
    assert re.search(r"^onnxruntime: max \|difference\| from dygraph on a probe image = \S+$", done.stdout, re.M)

    config = (model / "config.pbtxt").read_text()
    assert 'name: "mprnet_deraining"' in config and 'backend: "onnxruntime"' in config
    assert "max_batch_size: 0" in config and "multiples of 8" in config
    dims = re.findall(r"dims: \[ (.*?) \]", config)
    assert dims == ["-1, 3, -1, -1", "-1, 3, -1, -1"]  # dynamic batch, height and width
    names = re.findall(r'^\s+name: "(.*?)"', config, re.M)

    import onnxruntime

    session = onnxruntime.InferenceSession(str(model / "1" / "model.onnx"), providers=["CPUExecutionProvider"])
    assert names == [session.get_inputs()[0].name, session.get_outputs()[0].name]
    for shape in ((1, 3, 40, 48), (2, 3, 24, 64)):
        x = np.random.default_rng(0).random(shape, dtype=np.float32)
        (got,) = session.run(None, {names[0]: x})
        with paddle.no_grad():
            want = net(paddle.to_tensor(x))[0].numpy()
        assert got.shape == shape and np.abs(got - want).max() <= 1e-4


def test_triton_export_refuses_a_full_folder(tiny, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    done = export("--arch", "MPRNet", "--weight_path", tiny[1], "--output", tmp_path, "--format", "triton")
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [f"error: {tmp_path}: folder is not empty; "
                                                                         "export into a new or empty folder"]
    assert os.listdir(tmp_path) == ["keep.txt"]
