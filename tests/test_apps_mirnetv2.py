"""MIRNetV2Predictor (and MPRPredictor) on official-format weights: the small official networks in
tests/fixtures (saved by the official PyTorch code, with their outputs), super-resolution
enlargement, dual-pixel pairs in 16 bit, the download path, and every backend on MIRNetV2."""
import importlib.util
import os

import numpy as np
import onnx
import paddle
import pytest
from skimage import data

from ppir.apps import MIRNetV2Predictor, MPRPredictor
from ppir.archs import build_arch
from ppir.errors import ConfigError
from ppir.utils.image_io import read_image, write_image
from apps_fixtures import TINY_DEFOCUS, LocalFileServer

pytestmark = pytest.mark.usefixtures("module_home")  # a private weights cache

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def fixture(name):
    return os.path.join(FIXTURES, name)


def official_case(name):
    """(uint8 HxWxC input, official output rounded like a saved PNG) of a parity fixture."""
    arrays = np.load(fixture(name + ".npz"))
    image = np.round(arrays["input"][0].transpose(1, 2, 0) * 255).astype(np.uint8)
    expected = np.round(np.clip(arrays["output0"][0].transpose(1, 2, 0), 0, 1) * 255).astype(np.uint8)
    return image, expected


def assert_matches_official(out, expected):
    assert out.shape == expected.shape
    assert np.abs(out.astype(int) - expected).max() <= 1  # float rounding may flip a level


def test_official_mirnetv2_pth_through_the_predictor():
    image, expected = official_case("mirnetv2_small")
    p = MIRNetV2Predictor("real_denoising", weight_path=fixture("mirnetv2_small.pth"), backend="dygraph", tile=0)
    assert p.arch_cfg["n_feat"] == 16 and p.arch_cfg["n_MRB"] == 1
    assert_matches_official(p.run(image), expected)


def test_official_mprnet_pth_with_module_prefix_through_the_predictor():
    image, expected = official_case("mprnet_small")
    p = MPRPredictor("deblurring", weight_path=fixture("mprnet_small.pth"), backend="dygraph", tile=0)
    assert (p.arch_cfg["n_feat"], p.arch_cfg["scale_unetfeats"], p.arch_cfg["num_cab"]) == (16, 8, 2)
    assert_matches_official(p.run(image), expected)


def test_official_defocus_pair_through_the_predictor():
    image, expected = official_case("mirnetv2_small_defocus")
    p = MIRNetV2Predictor("defocus_deblurring", weight_path=fixture("mirnetv2_small_defocus.pth"),
                          backend="dygraph", tile=0)
    assert_matches_official(p.run((image[:, :, :3], image[:, :, 3:])), expected)


def test_default_weights_are_the_release_assets_read_without_torch(tmp_path, monkeypatch):
    spec = MIRNetV2Predictor.tasks["real_denoising"]
    assert spec.url == "https://github.com/swz30/MIRNetv2/releases/download/v1.0.0/real_denoising.pth"
    assert MIRNetV2Predictor.tasks["defocus_deblurring"].url.endswith("/dual_pixel_defocus_deblurring.pth")
    assert sorted(MIRNetV2Predictor.tasks) == sorted(
        ["real_denoising", "enhancement_lol", "enhancement_fivek", "sr_x2", "sr_x3", "sr_x4", "defocus_deblurring"])
    with open(fixture("mirnetv2_small.pth"), "rb") as f:
        body = f.read()
    with LocalFileServer() as server:
        server.add("/v1.0.0/enhancement_lol.pth", body)
        monkeypatch.setenv("PPIR_WEIGHTS_MIRROR", server.base_url + "/v1.0.0")
        p = MIRNetV2Predictor("enhancement_lol", output_path=str(tmp_path), backend="dygraph")
    assert p.weights_source.endswith("MIRNetv2_enhancement_lol.pth")
    image, expected = official_case("mirnetv2_small")
    assert_matches_official(p.run(image), expected)


def test_super_resolution_enlarges_first_unless_told_not_to():
    small = data.chelsea()[:20, :30]
    weights = fixture("mirnetv2_small.pth")
    p = MIRNetV2Predictor("sr_x2", weight_path=weights, backend="dygraph")
    assert p.run(small).shape == (40, 60, 3)
    rgba = np.dstack([small, np.full((20, 30), 200, np.uint8)])
    out = p.run(rgba)
    assert out.shape == (40, 60, 4) and np.all(out[:, :, 3] == 200)
    assert MIRNetV2Predictor("sr_x3", weight_path=weights, backend="dygraph").run(small).shape == (60, 90, 3)
    assert MIRNetV2Predictor("sr_x4", weight_path=weights, backend="dygraph", upscale=False).run(small).shape == small.shape
    with pytest.raises(ConfigError, match="upscale"):
        MIRNetV2Predictor("real_denoising", weight_path=weights, upscale=True)


@pytest.fixture(scope="module")
def defocus_weights(tmp_path_factory):
    paddle.seed(3)
    path = str(tmp_path_factory.mktemp("w") / "tiny_defocus.pdparams")
    paddle.save(build_arch(TINY_DEFOCUS).state_dict(), path)
    return path


def test_dual_pixel_folders_16_bit_in_16_bit_out(defocus_weights, tmp_path):
    rng = np.random.default_rng(0)
    views = {}
    for name, (h, w) in (("scene1.png", (37, 50)), ("scene2.png", (24, 24))):
        left = (rng.random((h, w, 3)) * 65535).astype(np.uint16)
        right = np.roll(left, 1, axis=1)
        views[name] = (left, right)
        write_image(tmp_path / "dpdd" / "inputL" / name, left)
        write_image(tmp_path / "dpdd" / "inputR" / name, right)
    write_image(tmp_path / "dpdd" / "inputL" / "lonely.png", views["scene2.png"][0])
    p = MIRNetV2Predictor("defocus_deblurring", weight_path=defocus_weights, output_path=str(tmp_path / "out"),
                          backend="dygraph")
    written = p.run(str(tmp_path / "dpdd"))
    assert [os.path.basename(w) for w in written] == ["scene1.png", "scene2.png"]
    assert len(p.failures) == 1 and "no right view named lonely.png" in p.failures[0][1]
    for path in written:
        out = read_image(path)
        left, right = views[os.path.basename(path)]
        assert out.dtype == np.uint16 and out.shape == left.shape
        np.testing.assert_array_equal(out, p.run((left, right)))
    # explicit file pairs, and a pair of different sizes
    files = (str(tmp_path / "dpdd" / "inputL" / "scene1.png"), str(tmp_path / "dpdd" / "inputR" / "scene2.png"))
    assert p.run(files) == [] and "views differ in size" in p.failures[0][1]


INSTALLED = ["paddle-inference"] + (["onnxruntime"] if importlib.util.find_spec("onnxruntime") else [])


@pytest.mark.parametrize("backend", INSTALLED)
def test_mirnetv2_backends_match_dygraph(defocus_weights, backend):
    """Exported MIRNetV2 (global-context softmax, ceil-mode pooling, 6 input channels) agrees."""
    rng = np.random.default_rng(1)
    pair = tuple((rng.random((45, 58, 3)) * 255).astype(np.uint8) for _ in range(2))
    reference = MIRNetV2Predictor("defocus_deblurring", weight_path=defocus_weights, backend="dygraph", tile=0)
    fast = MIRNetV2Predictor("defocus_deblurring", weight_path=defocus_weights, backend=backend, tile=0)
    assert fast.backend.name == backend
    x = np.ascontiguousarray(reference.prepare(pair)[0].transpose(2, 0, 1)[None])
    assert np.max(np.abs(fast._restore_tiled(x) - reference._restore_tiled(x))) <= 1e-4
    if backend == "onnxruntime":  # LeakyReLU's export form max(x, 0.2x) is a LeakyRelu again
        ops = {node.op_type for node in onnx.load(fast.exports.onnx_model()).graph.node}
        assert "LeakyRelu" in ops and "Max" not in ops
