"""The command-line tools as a user runs them: ``applications/tools/mprnet.py``, ``mirnetv2.py``
and ``tools/export_model.py`` started as real subprocesses (cwd = the repository, ``PPIR_HOME`` in
a temporary folder), on noisy photos from scikit-image with tiny networks.

Two tiny MPRNets: one with random weights (it changes a photo by ~20 dB, so outputs of two
backends or of the CLI and the Python API are worth comparing; about padding, bit depth, channels
and bad files the weights say nothing), and the briefly trained denoiser of ``apps_fixtures``
for what needs a network that really restores (denoising, tiles that match the whole run).

Time (2 cores): training takes ~50 s of one core, and an ONNX export ~25 s. So every long run
that needs no trained weights starts first, in child processes, beside the training: the export
tool, then the batch on ONNX Runtime (reusing that export: the tool writes it into the predictors'
export cache), and the dygraph twin of the batch. The short tests run meanwhile; the runs with
the trained weights start together once it is ready.
"""
import json
import os
import re
import socket
import subprocess
import sys
import threading
from types import SimpleNamespace

import cv2
import numpy as np
import paddle
import pytest
from skimage import data

import apps_fixtures
from ppir.apps import MIRNetV2Predictor, MPRPredictor
from ppir.apps.backends import ExportCache
from ppir.apps.exporting import load_any_network
from ppir.archs import build_arch
from ppir.utils.image_io import read_image, write_image
from apps_fixtures import TINY_DEFOCUS, TINY_MPRNET, LocalFileServer, add_noise, psnr

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
MPRNET = os.path.join("applications", "tools", "mprnet.py")
MIRNETV2 = os.path.join("applications", "tools", "mirnetv2.py")
EXPORT = os.path.join("tools", "export_model.py")
TINY_MIRNETV2 = {"name": "MIRNetV2", "n_feat": 16, "n_MRB": 1}  # real_denoising-shaped
TRAIN = "import shutil, sys; from apps_fixtures import trained_denoiser_weights as w; shutil.copy(w(), sys.argv[1])"
# The photos (paths in the photos folder, by output stem) and the bad inputs of the batch.
GOOD = {
    "astronaut_997x701": "big/astronaut_997x701.png",
    "camera_gray": "small/camera_gray.png",
    "coffee_16bit": "small/coffee_16bit.png",
    "logo_rgba": "small/logo_rgba.png",
    "chelsea": "more/chelsea.jpg",
}
BAD = ["bad/empty.png", "bad/cut.png", "bad/cut.jpg", "bad/notes.png", "bad/gone.png", "nothing"]
SMALL = ["camera_gray", "chelsea", "coffee_16bit", "logo_rgba"]  # what small/ and more/*.jpg hold


# ----- running the tools ------------------------------------------------------------------------
class Cli:
    """One run of a command as a real subprocess, started now or, with ``after``, once that run
    has ended; output goes to files (several runs may go at once without filling a pipe).
    ``done()`` waits and returns (code, out, err)."""

    def __init__(self, logs, command, env, after=None):
        number = len(os.listdir(logs))
        self.out_path, self.err_path = (os.path.join(logs, f"{number}.{kind}") for kind in ("out", "err"))
        for path in (self.out_path, self.err_path):
            open(path, "w").close()
        environment = {key: value for key, value in os.environ.items() if key not in env}
        environment.update({key: str(value) for key, value in env.items() if value is not None})
        self.proc = None
        self.launcher = threading.Thread(target=self._launch, args=(command, environment, after), daemon=True)
        self.launcher.start()

    def _launch(self, command, environment, after):
        if after is not None:
            after.launcher.join()
            after.proc.wait()
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)

    def done(self, timeout=600):
        self.launcher.join(timeout)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise
        with open(self.out_path) as out, open(self.err_path) as err:
            return SimpleNamespace(code=code, out=out.read(), err=err.read())

    def stop(self):
        self.launcher.join()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def home(module_home):
    return module_home


@pytest.fixture(scope="module")
def start(home, tmp_path_factory):
    """``start(script, *args, after=run, ENV=value)``: a tool started now, or when ``run`` has
    ended (``ENV=None`` unsets a variable)."""
    logs = str(tmp_path_factory.mktemp("cli_logs"))
    started = []

    def start(script, *args, after=None, **env):
        command = [script] if isinstance(script, str) else list(script)
        run = Cli(logs, [sys.executable, *command, *map(str, args)], env, after)
        started.append(run)
        return run

    yield start
    for run in started:
        run.stop()


def run(start, script, *args, **env):
    return start(script, *args, **env).done()


def assert_one_error_line(result, *words):
    """Exit status 2 and stderr is exactly one line ``error: ...`` holding ``words``."""
    assert result.code == 2, (result.code, result.err[-3000:])
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    for word in words:
        assert str(word) in lines[0]
    return lines[0]


def failure_lines(stdout):
    """The summary's per-input failure lines (after 'N failed:')."""
    after = stdout.split(" failed:\n", 1)
    return [line.strip() for line in after[1].splitlines() if line.startswith("  ")] if len(after) == 2 else []


def output(folder, task, stem):
    return read_image(os.path.join(folder, task, stem + ".png"))


def dead_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----- inputs and weights -----------------------------------------------------------------------
def noisy16(img, seed=3):
    noisy = img.astype(np.float32) / 255 + np.random.default_rng(seed).normal(0, 0.1, img.shape)
    return np.round(np.clip(noisy, 0, 1) * 65535).astype(np.uint16)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Noisy real photos of every kind in big/, small/ and more/, and bad inputs; returns the
    folder with ``.clean`` (the photos before noise, by stem)."""
    root = tmp_path_factory.mktemp("photos")
    clean = {"astronaut_997x701": cv2.resize(data.astronaut(), (997, 701), interpolation=cv2.INTER_AREA),
             "chelsea": data.chelsea()}
    write_image(root / GOOD["astronaut_997x701"], add_noise(clean["astronaut_997x701"]))
    write_image(root / GOOD["camera_gray"], add_noise(data.camera()[100:228, 200:296])[:, :, None])
    write_image(root / GOOD["coffee_16bit"], noisy16(data.coffee()[60:180, 200:370]))
    logo = add_noise(data.logo()[150:251, 200:293, :3])
    ramp = np.add.outer(np.arange(101), np.arange(93)) * 255 // 192
    alpha = np.clip(ramp + np.random.default_rng(4).integers(-20, 21, ramp.shape), 0, 255).astype(np.uint8)
    write_image(root / GOOD["logo_rgba"], np.dstack([logo, alpha]))
    write_image(root / GOOD["chelsea"], add_noise(clean["chelsea"]))
    (root / "bad").mkdir()
    (root / "bad" / "empty.png").write_bytes(b"")
    (root / "bad" / "cut.png").write_bytes((root / GOOD["camera_gray"]).read_bytes()[:3000])
    (root / "bad" / "cut.jpg").write_bytes((root / GOOD["chelsea"]).read_bytes()[:5000])
    (root / "bad" / "notes.png").write_text("shopping list: eggs, milk\n")
    (root / "nothing").mkdir()
    return SimpleNamespace(root=root, clean=clean)


def saved_weights(path, arch, seed):
    paddle.seed(seed)
    net = build_arch(arch)
    paddle.save(net.state_dict(), str(path))
    return str(path), net


@pytest.fixture(scope="module")
def random_mprnet(tmp_path_factory):
    """A tiny MPRNet with random weights (no training needed), and the same file cut short."""
    folder = tmp_path_factory.mktemp("random_mprnet")
    path, net = saved_weights(folder / "tiny.pdparams", TINY_MPRNET, seed=5)
    cut = folder / "cut.pdparams"
    cut.write_bytes(open(path, "rb").read()[:150000])
    return SimpleNamespace(path=path, net=net, cut=str(cut))


@pytest.fixture(scope="module")
def mirnet_weights(tmp_path_factory):
    return saved_weights(tmp_path_factory.mktemp("mirnetv2") / "tiny.pdparams", TINY_MIRNETV2, seed=6)[0]


@pytest.fixture(scope="module", autouse=True)
def early(start, random_mprnet, photos, tmp_path_factory):
    """The long runs that need no trained weights, started first thing with the training of the
    tiny denoiser (``trained_denoiser_weights()`` in a child process): the export tool, then the
    batch (good and bad inputs) on ONNX Runtime, and the good inputs (folder + glob) on dygraph.

    The tool exports into the folder where the predictors cache the export of these weights, so
    the batch finds the ONNX model there instead of converting it a second time."""
    out = tmp_path_factory.mktemp("early")
    if "path" in apps_fixtures._trained:  # already trained in this pytest process
        training, weights = None, apps_fixtures._trained["path"]
    else:
        weights = str(out / "tiny_denoiser.pdparams")
        pythonpath = os.pathsep.join(p for p in (TESTS, ROOT, os.environ.get("PYTHONPATH")) if p)
        training = start(["-c", TRAIN, weights], PYTHONPATH=pythonpath)
    network, arch_cfg, _ = MPRPredictor.load_network("denoising", random_mprnet.path)
    exported = ExportCache(network, arch_cfg).folder  # under PPIR_HOME, as the batch will look for it
    root, net = photos.root, ("--task", "denoising", "--weight_path", random_mprnet.path, "--tile", "0")
    export = start(EXPORT, "--arch", "MPRNet", "--task", "denoising", "--weight_path", random_mprnet.path,
                   "--output", exported, "--onnx")
    return SimpleNamespace(
        training=training, weights=weights, out=out, export=export, exported=exported,
        batch=start(MPRNET, "--input_image", *(root / p for p in list(GOOD.values()) + BAD), *net,
                    "--backend", "onnxruntime", "--output_path", out / "batch", after=export),
        good=start(MPRNET, "--input_image", root / "small", root / "more" / "*.jpg", *net, "--backend", "dygraph",
                   "--output_path", out / "good"),
    )


@pytest.fixture(scope="module")
def weights(early):
    if early.training is not None:
        result = early.training.done()
        assert result.code == 0, result.err[-3000:]
    return early.weights


# ----- errors that stop a run: exit 2, one line --------------------------------------------------
def test_unknown_task_is_one_line(start, photos, random_mprnet, tmp_path):
    result = run(start, MPRNET, "--input_image", photos.root / GOOD["camera_gray"], "--task", "Sharpening",
                 "--weight_path", random_mprnet.path, "--output_path", tmp_path)
    assert_one_error_line(result, "'Sharpening'", "Deblurring, Denoising, Deraining")
    assert not os.listdir(tmp_path)


def test_wrong_weights_file_is_one_line_and_ppir_debug_shows_the_traceback(
        start, photos, random_mprnet, mirnet_weights, tmp_path):
    args = ("--input_image", photos.root / GOOD["camera_gray"], "--task", "denoising", "--backend", "dygraph",
            "--output_path", tmp_path)
    other_net = start(MPRNET, *args, "--weight_path", mirnet_weights)
    truncated = start(MPRNET, *args, "--weight_path", random_mprnet.cut, PPIR_DEBUG=1)
    assert_one_error_line(other_net.done(), "does not match MPRNet", "conv_in.weight")
    shown = truncated.done()
    assert shown.code not in (0, 2)
    assert "Traceback (most recent call last)" in shown.err
    assert re.search(r"WeightsError: .*cut\.pdparams: truncated", shown.err), shown.err
    assert not os.listdir(tmp_path)


def test_offline_default_weights_name_the_url_and_weight_path(start, photos, tmp_path):
    home = tmp_path / "home"
    mirror = f"http://127.0.0.1:{dead_port()}/models"
    result = run(start, MPRNET, "--input_image", photos.root / GOOD["camera_gray"], "--task", "deraining",
                 "--backend", "dygraph", "--output_path", tmp_path / "out", PPIR_HOME=home, PPIR_WEIGHTS_MIRROR=mirror)
    assert_one_error_line(result, f"could not download {mirror}/MPR_Deraining.pdparams", "--weight_path")
    assert os.listdir(home / "weights") == []  # nothing half-downloaded left behind


def test_export_refuses_a_full_folder_and_missing_weights(start, random_mprnet, tmp_path):
    full, empty = tmp_path / "full", tmp_path / "empty"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    empty.mkdir()
    gone = tmp_path / "gone.pdparams"
    into_full = start(EXPORT, "--arch", "MPRNet", "--weight_path", random_mprnet.path, "--output", full)
    no_weights = start(EXPORT, "--arch", "MPRNet", "--weight_path", gone, "--output", empty)
    assert_one_error_line(into_full.done(), full, "not empty")
    assert_one_error_line(no_weights.done(), gone, "no such file")
    assert os.listdir(full) == ["keep.txt"] and empty.is_dir()


# ----- MIRNet-v2 ---------------------------------------------------------------------------------
def test_mirnetv2_restores_a_photo_and_enlarges_for_sr(start, mirnet_weights, tmp_path):
    photo = add_noise(data.chelsea()[80:144, 200:280])  # 64x80
    write_image(tmp_path / "cat.png", photo)
    args = ("--input_image", tmp_path / "cat.png", "--weight_path", mirnet_weights, "--backend", "dygraph",
            "--tile", "0")
    denoise = start(MIRNETV2, *args, "--task", "real_denoising", "--output_path", tmp_path / "out")
    enlarge = start(MIRNETV2, *args, "--task", "sr_x2", "--output_path", tmp_path / "out")
    same_size = start(MIRNETV2, *args, "--task", "SR_X2", "--no_upscale", "--output_path", tmp_path / "kept")
    for result in (denoise.done(), enlarge.done(), same_size.done()):
        assert result.code == 0, result.err
        assert "restored 1 of 1 image(s)" in result.out
    restored = output(tmp_path / "out", "real_denoising", "cat")
    expected = MIRNetV2Predictor("real_denoising", weight_path=mirnet_weights, backend="dygraph", tile=0).run(photo)
    np.testing.assert_array_equal(restored, expected)
    assert np.abs(restored.astype(int) - photo).mean() > 2  # the network changed it
    assert output(tmp_path / "out", "sr_x2", "cat").shape == (128, 160, 3)
    assert output(tmp_path / "kept", "sr_x2", "cat").shape == (64, 80, 3)


def test_mirnetv2_defocus_pairs_16_bit_and_a_left_view_without_partner(start, tmp_path):
    weights, _ = saved_weights(tmp_path / "defocus.pdparams", TINY_DEFOCUS, seed=7)
    scene = data.astronaut()[100:164, 150:246]
    left, right = noisy16(scene, seed=8), noisy16(scene, seed=9)
    write_image(tmp_path / "L" / "view1.png", left)
    write_image(tmp_path / "R" / "view1.png", right)
    write_image(tmp_path / "L" / "lonely.png", left)
    result = run(start, MIRNETV2, "--task", "defocus_deblurring", "--input_left", tmp_path / "L",
                 "--input_right", tmp_path / "R", "--weight_path", weights, "--backend", "dygraph", "--tile", "0",
                 "--output_path", tmp_path / "out")
    assert result.code == 1, result.err
    assert "restored 1 of 2 image(s)" in result.out
    (line,) = failure_lines(result.out)
    assert str(tmp_path / "L" / "lonely.png") in line and "no right view" in line
    restored = output(tmp_path / "out", "defocus_deblurring", "view1")
    assert restored.dtype == np.uint16 and restored.shape == (64, 96, 3)
    expected = MIRNetV2Predictor("defocus_deblurring", weight_path=weights, backend="dygraph", tile=0).run((left, right))
    np.testing.assert_array_equal(restored, expected)
    assert sorted(os.listdir(tmp_path / "out" / "defocus_deblurring")) == ["manifest.jsonl", "view1.png"]


# ----- tools/export_model.py ---------------------------------------------------------------------
def test_export_static_graph_and_onnx_match_the_eager_network(early, random_mprnet):
    folder = early.exported
    result = early.export.done()
    assert result.code == 0, result.err
    assert f"exported to {folder}" in result.out
    diffs = dict(re.findall(r"^(\S+): max \|difference\| from dygraph on a probe image = (\S+)$", result.out, re.M))
    assert sorted(diffs) == ["onnxruntime", "paddle-inference"] and all(float(d) <= 1e-4 for d in diffs.values())
    assert {"model.json", "model.pdiparams", "model.onnx", "meta.json"} <= set(os.listdir(folder))
    with open(os.path.join(folder, "meta.json")) as f:
        arch = json.load(f)["arch"]
    assert {key: arch[key] for key in TINY_MPRNET} == TINY_MPRNET  # widths read from the weights
    without_task = load_any_network("MPRNet", weight_path=random_mprnet.path)[1]  # as without --task
    assert "task" not in without_task and {key: without_task[key] for key in TINY_MPRNET} == TINY_MPRNET

    photo = add_noise(data.coffee()[100:164, 250:346]).astype(np.float32) / 255
    x = np.ascontiguousarray(photo.transpose(2, 0, 1)[None])
    random_mprnet.net.eval()
    with paddle.no_grad():
        eager = random_mprnet.net(paddle.to_tensor(x))[0].numpy()
        static = paddle.jit.load(os.path.join(folder, "model"))(paddle.to_tensor(x)).numpy()
    import onnxruntime

    session = onnxruntime.InferenceSession(os.path.join(folder, "model.onnx"), providers=["CPUExecutionProvider"])
    (onnx_out,) = session.run(None, {session.get_inputs()[0].name: x})
    assert np.abs(eager - x).max() > 0.05  # the network does change the photo
    assert np.abs(static - eager).max() <= 1e-4
    assert np.abs(onnx_out - eager).max() <= 1e-4


# ----- batches ----------------------------------------------------------------------------------
def test_batch_restores_every_kind_of_photo_and_reports_each_bad_file(early, photos, random_mprnet):
    result = early.batch.done()
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    assert re.search(r"^restored 5 of 11 image\(s\) in [\d.]+ s; results in ", result.out, re.M), result.out
    failures = failure_lines(result.out)
    assert len(failures) == len(BAD) and "6 failed:" in result.out
    for bad in BAD:
        assert len([line for line in failures if str(photos.root / bad) in line]) == 1, (bad, failures)
    folder = early.out / "batch"
    assert sorted(os.listdir(folder / "Denoising")) == sorted([stem + ".png" for stem in GOOD] + ["manifest.jsonl"])

    predictor = MPRPredictor("denoising", weight_path=random_mprnet.path, backend="onnxruntime", tile=0)
    for stem, path in GOOD.items():
        given, written = read_image(photos.root / path), output(folder, "Denoising", stem)
        assert written.shape == given.shape and written.dtype == given.dtype, stem
        np.testing.assert_array_equal(written, predictor.run(given), err_msg=stem)  # no hidden change
        assert psnr(written, given, 65535.0 if given.dtype == np.uint16 else 255.0) < 35, stem  # changed
    logo = read_image(photos.root / GOOD["logo_rgba"])
    np.testing.assert_array_equal(output(folder, "Denoising", "logo_rgba")[:, :, 3], logo[:, :, 3])
    assert output(folder, "Denoising", "coffee_16bit").dtype == np.uint16
    assert output(folder, "Denoising", "camera_gray").shape[2] == 1
    assert output(folder, "Denoising", "astronaut_997x701").shape == (701, 997, 3)


def test_folder_and_glob_inputs_exit_0_with_a_progress_bar(early):
    result = early.good.done()
    assert result.code == 0, result.err
    assert "4 image(s) to restore with dygraph" in result.out and "restored 4 of 4 image(s)" in result.out
    assert re.search(r"Denoising: 100%\|.*\| 4/4 ", result.err), result.err  # tqdm, on stderr
    assert sorted(os.listdir(early.out / "good" / "Denoising")) == sorted([stem + ".png" for stem in SMALL] + ["manifest.jsonl"])


def test_dygraph_and_onnxruntime_agree_within_one_level(early):
    assert early.good.done().code == 0 and early.batch.done().code == 1
    assert "with onnxruntime" in early.batch.done().out
    for stem in SMALL:
        a, b = (output(early.out / name, "Denoising", stem) for name in ("good", "batch"))
        level = 257 if a.dtype == np.uint16 else 1  # 1/255 of the range
        assert a.dtype == b.dtype and np.abs(a.astype(int) - b).max() <= level, stem


# ----- with the trained tiny denoiser ------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(start, weights, photos, tmp_path_factory):
    """The runs that need the trained weights, started together."""
    out = tmp_path_factory.mktemp("trained")
    root = photos.root
    args = ("--task", "denoising", "--weight_path", weights, "--backend", "dygraph")
    with LocalFileServer() as server:
        with open(weights, "rb") as f:
            server.add("/models/MPR_Denoising.pdparams", f.read())
        yield SimpleNamespace(
            out=out, server=server,
            whole=start(MPRNET, "--input_image", *(root / GOOD[s] for s in ("chelsea", "camera_gray", "logo_rgba")),
                        *args, "--tile", "0", "--output_path", out / "whole"),
            tiled=start(MPRNET, "--input_image", root / GOOD["chelsea"], *args, "--tile", "160",
                        "--tile_overlap", "32", "--output_path", out / "tiled"),
            ensemble=start(MPRNET, "--input_image", root / GOOD["camera_gray"], *args, "--tile", "0",
                           "--self_ensemble", "--output_path", out / "ensemble"),
            mirror=start(MPRNET, "--input_image", root / GOOD["logo_rgba"], "--task", "Denoising",
                         "--backend", "dygraph", "--tile", "0", "--output_path", out / "mirror",
                         PPIR_HOME=out / "mirror_home", PPIR_WEIGHTS_MIRROR=server.base_url + "/models"),
        )


def test_trained_denoiser_restores_and_tiles_match_the_whole_run(trained, photos):
    for result in (trained.whole.done(), trained.tiled.done()):
        assert result.code == 0, result.err
    whole, tiled = (output(trained.out / name, "Denoising", "chelsea") for name in ("whole", "tiled"))
    noisy = read_image(photos.root / GOOD["chelsea"])
    assert psnr(whole, photos.clean["chelsea"]) > psnr(noisy, photos.clean["chelsea"]) + 4  # denoised
    assert tiled.shape == whole.shape == (300, 451, 3)
    assert not np.array_equal(tiled, whole)  # it did run in tiles
    assert psnr(tiled, whole) >= 45


def test_self_ensemble_is_the_predictors(trained, photos, weights):
    for result in (trained.ensemble.done(), trained.whole.done()):
        assert result.code == 0, result.err
    gray = read_image(photos.root / GOOD["camera_gray"])
    ensemble = output(trained.out / "ensemble", "Denoising", "camera_gray")
    expected = MPRPredictor("denoising", weight_path=weights, backend="dygraph", tile=0, self_ensemble=True).run(gray)
    np.testing.assert_array_equal(ensemble, expected)
    plain = output(trained.out / "whole", "Denoising", "camera_gray")
    assert not np.array_equal(ensemble, plain) and psnr(ensemble, plain) > 30


def test_default_weights_come_from_the_mirror_once_and_are_cached(trained, weights):
    for result in (trained.mirror.done(), trained.whole.done()):
        assert result.code == 0, result.err
    cached = trained.out / "mirror_home" / "weights" / "MPR_Denoising.pdparams"
    assert cached.read_bytes() == open(weights, "rb").read()
    assert trained.server.requests["/models/MPR_Denoising.pdparams"] == 1
    np.testing.assert_array_equal(output(trained.out / "mirror", "Denoising", "logo_rgba"),
                                  output(trained.out / "whole", "Denoising", "logo_rgba"))  # the same weights
