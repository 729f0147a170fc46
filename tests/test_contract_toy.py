"""The network contract, proved on a network ppir has never seen: ``ToyNet`` is defined and
registered only here (a few convolutions, ``size_multiple`` 4 because it works on a 4x coarser
grid). Without any change to ppir it trains through ``custom_imports``, is scored by
``--evaluate-only``, restores photos with ``Predictor`` on every backend, whole and in tiles, is
exported by ``tools/export_model.py`` with its width read from the weights, and restores from
``applications/tools/restore.py``. A network that lacks a contract attribute is named at once."""
import json
import os
import subprocess
import sys

import numpy as np
import paddle
import pytest
import yaml
from paddle import nn
import paddle.nn.functional as F
from skimage import data

from ppir.apps import Predictor
from ppir.apps.backends import BACKENDS
from ppir.archs.common import check_input
from ppir.archs.contract import ContractError
from ppir.registry import ARCHS
from ppir.utils.image_io import read_image, write_image
from apps_fixtures import add_noise

pytestmark = pytest.mark.usefixtures("module_home")  # a private weights and export cache

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
THIS = "test_contract_toy"  # this module, as custom_imports names it
WIDTH = 6  # trained width; the constructor's default is 16, so a width read from weights shows


@ARCHS.register()
class ToyNet(nn.Layer):
    """The photo plus a residual from a full-resolution conv path and a 4x coarser one."""

    size_multiple = 4
    scale = 1

    def __init__(self, in_channels=3, out_channels=3, width=16):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.head = nn.Conv2D(in_channels, width, 3, padding=1)
        self.down = nn.Conv2D(width, width, 4, stride=4)
        self.up = nn.Conv2DTranspose(width, width, 4, stride=4)
        self.tail = nn.Conv2D(width, out_channels, 3, padding=1)

    @staticmethod
    def config_from_weights(state):
        weight = state["head.weight"]
        return {"in_channels": int(weight.shape[1]), "width": int(weight.shape[0]),
                "out_channels": int(state["tail.weight"].shape[0])}

    def forward(self, x):
        check_input(x, "ToyNet", self.in_channels, self.size_multiple)  # one clear error for a wrong size
        features = F.relu(self.head(x))
        features = features + self.up(F.relu(self.down(features)))
        return x + self.tail(features)


@ARCHS.register()
class ToyUpNet(nn.Layer):
    """A x2 super-resolution toy (``scale`` 2): nearest enlargement plus a pixel-shuffled conv."""

    in_channels = out_channels = 3
    size_multiple = 2
    scale = 2

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(3, 12, 3, padding=1)

    def forward(self, x):
        check_input(x, "ToyUpNet", self.in_channels, self.size_multiple)
        return F.pixel_shuffle(self.conv(x), 2) * 0.2 + F.interpolate(x, scale_factor=2, mode="nearest")


@ARCHS.register()
class ToyNetWithoutScale(nn.Layer):
    in_channels = out_channels = 3
    size_multiple = 4

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(3, 3, 3, padding=1)

    def forward(self, x):
        return self.conv(x)


def environment():
    env = {k: v for k, v in os.environ.items() if k != "PPIR_DEBUG"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (TESTS, ROOT, os.environ.get("PYTHONPATH")) if p)
    return env


def tool(*command):
    return subprocess.run([sys.executable, *map(str, command)], cwd=ROOT, env=environment(), capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A ToyNet trained for a few steps by tools/main.py from a config that only names this module
    in ``custom_imports``, then scored by --evaluate-only."""
    folder = tmp_path_factory.mktemp("toy_run")
    noise = {"name": "SyntheticDegradationDataset", "degradation": "noise", "sigma": 25}
    cfg = {
        "custom_imports": [THIS],
        "output_dir": str(folder / "output"),
        "seed": 5,
        "arch": {"name": "ToyNet", "width": WIDTH},
        "train": {"dataset": {**noise, "split": "train", "patch_size": 32, "repeat": 1}, "batch_size": 4,
                  "total_iters": 12, "loss": {"name": "CharbonnierLoss"}, "optimizer": {"name": "Adam", "lr": 3e-3},
                  "lr_schedule": {"name": "warmup_cosine", "warmup_iters": 2, "cosine_iters": 10, "eta_min": 1e-4}},
        "val": {"interval": 0, "datasets": {"photos": {"dataset": {**noise, "phase": "val"},
                                                       "protocol": "training_psnr"}}, "save_images": 0},
        "checkpoint": {"interval": 0, "keep_last": 1},
        "log": {"interval": 4, "progress_bar": False},
    }
    config = folder / "toy.yaml"
    config.write_text(yaml.safe_dump(cfg, sort_keys=False))
    training = tool("tools/main.py", "--config-file", config, "--device", "cpu")
    assert training.returncode == 0, training.stderr[-3000:]
    weights = folder / "output" / "toy" / "weights" / "final.pdparams"
    scoring = tool("tools/main.py", "--config-file", config, "--evaluate-only", "--load", weights,
                   "--output-dir", folder / "scores", "--device", "cpu")
    assert scoring.returncode == 0, scoring.stderr[-3000:]
    return str(weights), json.loads((folder / "scores" / "metrics.json").read_text())


def test_toy_network_trains_through_custom_imports_and_is_scored(trained):
    _, metrics = trained
    assert metrics["photos"]["PSNR"] > 15


def test_toy_network_restores_on_every_backend_whole_and_in_tiles(trained, tmp_path):
    weights, _ = trained
    noisy = add_noise(data.astronaut()[100:158, 150:221])  # 58x71: not multiples of 4
    results = {}
    for backend in BACKENDS:
        p = Predictor("ToyNet", weight_path=weights, backend=backend, tile=0, output_path=tmp_path)
        assert p.backend.name == backend and p.arch_cfg["width"] == WIDTH  # the width read from the weights
        results[backend] = p.run(noisy)
        assert results[backend].shape == noisy.shape
    for backend in BACKENDS:
        assert np.abs(results[backend].astype(int) - results["dygraph"]).max() <= 1
    assert np.abs(results["dygraph"].astype(int) - noisy).mean() > 1  # the network does change the photo

    tiled = Predictor("ToyNet", weight_path=weights, backend="dygraph", tile=32, tile_overlap=8)
    shapes = []
    backend = tiled.backend
    tiled.backend = lambda x: shapes.append(x.shape) or backend(x)
    out = tiled.run(noisy)
    assert len(shapes) == 3 * 3 and all(s[2] == 32 and s[3] == 32 for s in shapes)
    # The top-left tile starts on the image's 4x grid: where no other tile is blended in (the
    # next ones start at row 13 and column 20) it sees what the whole run saw, and agrees.
    assert out.shape == noisy.shape
    assert np.abs(out[:12, :16].astype(int) - results["dygraph"][:12, :16]).max() <= 1


def test_a_network_with_scale_2_comes_back_twice_as_large_whole_and_in_tiles(tmp_path):
    paddle.seed(2)
    weights = tmp_path / "up.pdparams"
    paddle.save(ToyUpNet().state_dict(), str(weights))
    photo = data.coffee()[:44, :66]  # even sides: the whole run is not padded, as the tiles are not
    whole = Predictor("ToyUpNet", weight_path=weights, backend="dygraph", tile=0).run(photo)
    tiled = Predictor("ToyUpNet", weight_path=weights, backend="dygraph", tile=24, tile_overlap=8).run(photo)
    assert whole.shape == tiled.shape == (88, 132, 3)
    assert np.abs(whole.astype(int) - tiled).max() <= 2  # a local network: tiles agree up to their edges


def test_toy_network_exports_and_restores_from_the_command_line(trained, tmp_path):
    weights, _ = trained
    exported = tmp_path / "exported"
    export = tool("tools/export_model.py", "--arch", "ToyNet", "--custom_imports", THIS, "--weight_path", weights,
                  "--output", exported, "--onnx")
    assert export.returncode == 0, export.stderr[-3000:]
    assert {"model.json", "model.pdiparams", "model.onnx", "meta.json"} <= set(os.listdir(exported))
    assert json.loads((exported / "meta.json").read_text())["arch"]["width"] == WIDTH

    noisy = add_noise(data.chelsea()[50:111, 100:183])  # 61x83
    write_image(tmp_path / "in" / "cat.png", noisy)
    restore = tool("applications/tools/restore.py", "--arch", "ToyNet", "--custom_imports", THIS,
                   "--weight_path", weights, "--input_image", tmp_path / "in", "--backend", "dygraph",
                   "--output_path", tmp_path / "out")
    assert restore.returncode == 0, restore.stderr[-3000:]
    expected = Predictor("ToyNet", weight_path=weights, backend="dygraph", tile=0).run(noisy)
    np.testing.assert_array_equal(read_image(tmp_path / "out" / "ToyNet" / "cat.png"), expected)


def test_a_missing_contract_attribute_is_named_when_an_app_first_uses_the_network(tmp_path):
    weights = tmp_path / "no_scale.pdparams"
    paddle.save(ToyNetWithoutScale().state_dict(), str(weights))
    with pytest.raises(ContractError, match="ToyNetWithoutScale .*scale"):
        Predictor("ToyNetWithoutScale", weight_path=weights, backend="dygraph")
    missing = tool("applications/tools/restore.py", "--arch", "ToyNetWithoutScale", "--custom_imports", THIS,
                   "--weight_path", weights, "--input_image", tmp_path / "x.png")
    assert missing.returncode == 2 and missing.stderr.strip().startswith("error: network ToyNetWithoutScale")
    unknown = tool("applications/tools/restore.py", "--arch", "ToyNet", "--custom_imports", "no_such_module_here",
                   "--weight_path", weights, "--input_image", tmp_path / "x.png")
    assert unknown.returncode == 2 and "no module named 'no_such_module_here'" in unknown.stderr
