"""MIRNet (v1) served like the other networks: ``MIRNetPredictor``, ``applications/tools/mirnet.py``
and the generic ``applications/tools/restore.py`` reproduce the official network's output on the
shared parity fixture (tests/fixtures/mirnet_small.*: a small official MIRNet saved by the official
PyTorch code, a photo crop and the official output) to one grey level, at the fixture's size and,
through the same reflect padding as the official demos, at sizes that are not multiples of 4."""
import os
import subprocess
import sys

import numpy as np
import paddle
import pytest

from ppir.apps import MIRNetPredictor, Predictor
from ppir.archs import build_arch
from ppir.errors import ConfigError
from ppir.utils.image_io import read_image, write_image
from ppir.utils.padding import crop, pad_to_multiple
from ppir.weights import load_weights

pytestmark = pytest.mark.usefixtures("module_home")  # a private weights cache

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
WEIGHTS = os.path.join(FIXTURES, "mirnet_small.pth")


def official_case():
    """(uint8 HxWx3 input, official output rounded like a saved PNG, float input NCHW)."""
    arrays = np.load(os.path.join(FIXTURES, "mirnet_small.npz"))
    image = np.round(arrays["input"][0].transpose(1, 2, 0) * 255).astype(np.uint8)
    expected = np.round(np.clip(arrays["output0"][0].transpose(1, 2, 0), 0, 1) * 255).astype(np.uint8)
    return image, expected


def padded_reference(image):
    """The official demo's procedure on ``image``: reflect pad bottom/right to a multiple of 4,
    the network, crop, clip, round (the network is checked against the official one in
    tests/test_mirnet_parity.py)."""
    net = build_arch({"name": "MIRNet", "n_feat": 16, "n_RRG": 1, "n_MSRB": 1})
    load_weights(net, WEIGHTS)
    net.eval()
    x, size = pad_to_multiple(image.astype(np.float32).transpose(2, 0, 1)[None] / 255, 4)
    with paddle.no_grad():
        out = crop(net(paddle.to_tensor(x)).numpy(), size)
    return np.round(np.clip(out[0].transpose(1, 2, 0), 0, 1) * 255).astype(np.uint8)


def max_levels(a, b):
    assert a.shape == b.shape
    return int(np.abs(a.astype(int) - b.astype(int)).max())


def test_mirnet_predictor_reproduces_the_official_output():
    image, expected = official_case()
    p = MIRNetPredictor("Real_Denoising", weight_path=WEIGHTS, backend="dygraph", tile=0)
    assert p.task == "real_denoising"
    assert (p.arch_cfg["n_feat"], p.arch_cfg["n_RRG"], p.arch_cfg["n_MSRB"]) == (16, 1, 1)  # read from the weights
    assert max_levels(p.run(image), expected) <= 1
    odd = image[:61, :93]
    assert max_levels(p.run(odd), padded_reference(odd)) <= 1


def test_released_mirnet_weights_need_weight_path_and_say_where_they_are():
    with pytest.raises(ConfigError, match="model_lol.pth.*Google Drive.*swz30/MIRNet.*weight_path"):
        MIRNetPredictor("enhancement_lol")
    with pytest.raises(ConfigError, match="real_denoising, enhancement_lol, enhancement_fivek, sr_x3, sr_x4"):
        MIRNetPredictor("sr_x2", weight_path=WEIGHTS)


def tool(script, *args):
    return subprocess.run([sys.executable, os.path.join("applications", "tools", script), *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_mirnet_and_restore_tools_reproduce_the_official_output_on_every_backend(tmp_path):
    image, expected = official_case()
    odd = image[:62, :90]
    write_image(tmp_path / "in" / "whole.png", image)
    write_image(tmp_path / "in" / "odd.png", odd)
    mirnet = tool("mirnet.py", "--input_image", tmp_path / "in", "--task", "real_denoising", "--weight_path", WEIGHTS,
                  "--backend", "onnxruntime", "--output_path", tmp_path / "mirnet")
    assert mirnet.returncode == 0, mirnet.stderr[-3000:]
    assert "2 image(s) to restore with onnxruntime" in mirnet.stdout and "restored 2 of 2" in mirnet.stdout
    restore = tool("restore.py", "--arch", "MIRNet", "--task", "REAL_DENOISING", "--input_image", tmp_path / "in",
                   "--weight_path", WEIGHTS, "--backend", "paddle-inference", "--output_path", tmp_path / "restore")
    assert restore.returncode == 0, restore.stderr[-3000:]
    for folder in ("mirnet", "restore"):
        out = tmp_path / folder / "real_denoising"
        assert max_levels(read_image(out / "whole.png"), expected) <= 1
        assert max_levels(read_image(out / "odd.png"), padded_reference(odd)) <= 1


def test_mirnet_tool_without_weights_is_one_line_naming_the_page(tmp_path):
    write_image(tmp_path / "x.png", official_case()[0])
    result = tool("mirnet.py", "--input_image", tmp_path / "x.png", "--task", "sr_x4", "--output_path", tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "model_SR_x4.pth" in lines[0]
    assert "https://github.com/swz30/MIRNet" in lines[0] and "--weight_path" in lines[0]


def test_generic_predictor_takes_a_config_dict_and_enlarges_for_sr():
    image, _ = official_case()
    p = Predictor({"name": "MIRNet"}, "sr_x3", weight_path=WEIGHTS, backend="dygraph", tile=0)
    assert p.run(image[:20, :24]).shape == (60, 72, 3)
    same = Predictor("MIRNet", "sr_x3", weight_path=WEIGHTS, backend="dygraph", tile=0, upscale=False)
    assert same.run(image[:20, :24]).shape == (20, 24, 3)


@pytest.mark.parametrize("case, arch, widths", [
    ("mirnet_small", "MIRNet", {"n_feat": 16, "n_RRG": 1, "n_MSRB": 1}),
    ("mirnetv2_small", "MIRNetV2", {"n_feat": 16, "n_MRB": 1}),
    ("mprnet_small", "MPRNet", {"n_feat": 16, "scale_unetfeats": 8, "num_cab": 2}),
])
def test_export_reads_the_widths_from_the_weights_for_every_family(case, arch, widths):
    from ppir.apps.exporting import load_any_network

    _, arch_cfg = load_any_network(arch, weight_path=os.path.join(FIXTURES, f"{case}.pth"))
    assert {key: arch_cfg[key] for key in widths} == widths
