"""Backends: every installed one agrees with dygraph, 'auto' picks the fastest verified one and
falls back (once, with a reason) when one is broken, exports are cached, crashes stay contained."""
import importlib.util
import logging
import os

import numpy as np
import onnx
import paddle
import pytest
from skimage import data

from ppir.apps import MPRPredictor
from ppir.apps.backends import BACKENDS, ExportCache
from ppir.apps.backends.paddle_inference import build_config, config_steps
from ppir.apps.backends.worker import WorkerFailed, run_worker
from ppir.errors import PpirError
from apps_fixtures import add_noise, trained_denoiser_weights

pytestmark = pytest.mark.usefixtures("module_home")  # a private weights cache

INSTALLED = ["dygraph", "paddle-inference"] + (["onnxruntime"] if importlib.util.find_spec("onnxruntime") else [])


@pytest.fixture(scope="module")
def weights():
    return trained_denoiser_weights()


@pytest.fixture(scope="module")
def photo():
    """A noisy real photo of odd size, as the network input (NCHW float32)."""
    img = add_noise(data.chelsea()[100:197, 150:281])
    return np.ascontiguousarray((img.astype(np.float32) / 255).transpose(2, 0, 1)[None])


def make(weights, backend, **options):
    return MPRPredictor("Denoising", weight_path=weights, backend=backend, tile=0, **options)


def test_installed_backends_are_the_ones_tested():
    assert set(INSTALLED) <= set(BACKENDS)
    assert "onnxruntime" in INSTALLED, "the default CPU backend needs onnxruntime and paddle2onnx"


@pytest.mark.parametrize("name", INSTALLED)
def test_every_backend_matches_dygraph(weights, photo, name):
    reference = make(weights, "dygraph")._restore_tiled(photo)
    p = make(weights, name)
    assert p.backend.name == name
    out = p._restore_tiled(photo)
    assert out.shape == reference.shape
    assert np.max(np.abs(out - reference)) <= 1e-4
    assert np.max(np.abs(reference - photo)) > 0.05  # the network changes the photo


def test_auto_picks_onnxruntime_on_cpu(weights, caplog):
    with caplog.at_level(logging.INFO, logger="ppir"):
        p = make(weights, "auto")
    assert p.backend.name == "onnxruntime"
    assert p.backend.description.startswith("onnxruntime")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    # the shared PReLU reaches ONNX Runtime as LeakyRelu, which it fuses into the convs before it
    ops = {node.op_type for node in onnx.load(p.exports.onnx_model()).graph.node}
    assert "LeakyRelu" in ops and "PRelu" not in ops


def test_exports_are_cached_per_weights(weights, tmp_path):
    first = make(weights, "paddle-inference")
    folder = first.exports.folder
    files = sorted(os.listdir(folder))
    assert {"model.json", "model.pdiparams", "meta.json"} <= set(files)
    stamp = os.path.getmtime(os.path.join(folder, "model.pdiparams"))
    again = make(weights, "paddle-inference")
    assert again.exports.folder == folder and os.path.getmtime(os.path.join(folder, "model.pdiparams")) == stamp

    state = paddle.load(weights)
    state["tail.weight"] = state["tail.weight"] * 0.5
    changed = tmp_path / "changed.pdparams"
    paddle.save(state, str(changed))
    assert ExportCache(make(str(changed), "dygraph").net, first.arch_cfg).folder != folder


def test_export_leaves_the_eager_network_unchanged(weights, photo, tmp_path):
    p = make(weights, "dygraph")
    before = p._restore_tiled(photo)
    ExportCache(p.net, p.arch_cfg, root=str(tmp_path)).static_model()  # a fresh export of p.net
    np.testing.assert_array_equal(p._restore_tiled(photo), before)


def test_broken_backend_falls_back_once_and_explicit_request_fails(weights, caplog):
    folder = make(weights, "onnxruntime").exports.folder
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(b"this is not an onnx model")
    for name in os.listdir(folder):
        if name.startswith("checked-onnxruntime"):
            os.remove(os.path.join(folder, name))
    with caplog.at_level(logging.INFO, logger="ppir"):
        first = make(weights, "auto")
        second = make(weights, "auto")
    assert first.backend.name == second.backend.name == "paddle-inference"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith(
        "backend onnxruntime not used: trial run in a child process failed (exit 1): ")
    assert "INVALID_PROTOBUF" in warnings[0] and warnings[0].endswith("; trying the next one")
    with pytest.raises(PpirError, match="backend 'onnxruntime' cannot be used"):
        make(weights, "onnxruntime")
    os.remove(os.path.join(folder, "model.onnx"))  # leave a cache the other tests can rebuild


class SplitInHalves(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.conv = paddle.nn.Conv2D(3, 3, 3, padding=1)

    def forward(self, x):
        top, bottom = paddle.split(self.conv(x), 2, axis=2)
        return paddle.concat([bottom, top], axis=2)


def test_native_crash_of_the_converter_is_contained(tmp_path):
    """paddle2onnx aborts (SIGABRT) on a split along a dynamic axis; the child dies, we do not."""
    pytest.importorskip("paddle2onnx")
    spec = [paddle.static.InputSpec([1, 3, None, None], "float32", "x")]
    paddle.jit.save(paddle.jit.to_static(SplitInHalves(), input_spec=spec, full_graph=True), str(tmp_path / "m"))
    with pytest.raises(WorkerFailed, match="ONNX conversion in a child process crashed with signal 6"):
        run_worker("convert-onnx", tmp_path / "m.json", tmp_path / "m.pdiparams", tmp_path / "m.onnx")
    assert not os.path.exists(tmp_path / "m.onnx")


def test_gpu_configuration_is_built_as_far_as_this_machine_allows(tmp_path):
    steps = dict(config_steps("gpu:1", 6, fp16=True, tensorrt=True, cache_dir="trt"))
    assert steps["enable_use_gpu"] == (512, 1, "Half")
    assert steps["enable_tensorrt_engine"][3] == "Half"
    assert [shape["x"][1] for shape in steps["set_trt_dynamic_shape_info"]] == [6, 6, 6]
    assert steps["set_optim_cache_dir"] == ("trt",)
    assert "enable_mkldnn" not in steps
    cpu = dict(config_steps("cpu", 3))
    assert "enable_mkldnn" in cpu and "enable_use_gpu" not in cpu
    with pytest.raises(PpirError, match="need a GPU"):
        config_steps("cpu", 3, fp16=True)

    prefix = str(tmp_path / "m")
    paddle.jit.save(paddle.jit.to_static(SplitInHalves(), input_spec=[paddle.static.InputSpec([1, 3, None, None])],
                                         full_graph=True), prefix)
    config = build_config(prefix + ".json", prefix + ".pdiparams", config_steps("gpu", 3, fp16=True))
    assert config.use_gpu() == paddle.device.is_compiled_with_cuda()
    if not paddle.device.is_compiled_with_cuda():
        with pytest.raises(PpirError, match="enable_tensorrt_engine"):
            build_config(prefix + ".json", prefix + ".pdiparams", config_steps("gpu", 3, tensorrt=True))


def test_unknown_backend_and_missing_gpu_are_clear_errors(weights):
    with pytest.raises(PpirError, match="unknown backend 'tensorflow'"):
        make(weights, "tensorflow")
    if not paddle.device.is_compiled_with_cuda():
        with pytest.raises(PpirError, match="no usable GPU"):
            make(weights, "auto", device="gpu")
