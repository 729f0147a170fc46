"""Nothing lies in the photo apps: non-finite weights and outputs, decompression bombs, running out
of memory, bad output places and caches, bad inputs, Ctrl-C/SIGTERM, and the words used for them.
Process-level checks run the real command lines as subprocesses with timeouts."""
import os
import resource
import signal
import struct
import subprocess
import sys
import time
import zlib

import cv2
import numpy as np
import pytest

from ppir.apps import MIRNetV2Predictor, MPRPredictor
from ppir.archs import build_arch
from ppir.errors import ConfigError, ImageReadError, PpirError, WeightsError
from ppir.utils.image_io import read_image, write_image
from ppir.weights import load_weights, read_state_dict, save_weights

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MPRNET = os.path.join(ROOT, "applications", "tools", "mprnet.py")
EXPORT = os.path.join(ROOT, "tools", "export_model.py")
CONVERT = os.path.join(ROOT, "tools", "convert_weights.py")
TINY = {"name": "MPRNet", "task": "Deblurring", "n_feat": 8, "scale_unetfeats": 4, "scale_orsnetfeats": 4,
        "num_cab": 1}
TINY_MIRNETV2 = {"name": "MIRNetV2", "task": "real_denoising", "n_feat": 16, "n_MRB": 1}
TIMEOUT = 300


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """Tiny weights: good ones, and copies with NaN, Inf, an overflow, a renamed key, an empty shape."""
    import paddle

    folder = tmp_path_factory.mktemp("weights")
    paddle.seed(0)
    net = build_arch(TINY)
    paths = {"good": str(folder / "good.pdparams")}
    save_weights(net, paths["good"])
    state = read_state_dict(paths["good"])

    def variant(name, change):
        copy = {k: v.copy() for k, v in state.items()}
        change(copy)
        paths[name] = str(folder / f"{name}.pdparams")
        paddle.save({k: paddle.to_tensor(v) for k, v in copy.items()}, paths[name])

    variant("nan", lambda s: s["tail.weight"].__setitem__((0, 0, 0, 0), np.nan))
    variant("inf", lambda s: s["shallow_feat1.0.weight"].__setitem__((0, 0, 0, 0), -np.inf))
    variant("overflow", lambda s: s["shallow_feat1.0.weight"].__setitem__(Ellipsis, 3e38))
    variant("renamed", lambda s: s.__setitem__("tail.weightx", s.pop("tail.weight")))
    variant("empty", lambda s: s.__setitem__("tail.weight", np.zeros((3, 0, 3, 3), np.float32)))
    paddle.seed(0)
    three = build_arch({**TINY_MIRNETV2})
    paths["mirnetv2_rgb"] = str(folder / "mirnetv2_rgb.pdparams")
    save_weights(three, paths["mirnetv2_rgb"])
    return paths


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i in range(3):
        cv2.imwrite(str(folder / f"p{i}.png"), rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))
    return folder


def run_tool(script, *args, env=None, timeout=TIMEOUT):
    full_env = {k: v for k, v in os.environ.items() if k != "PPIR_DEBUG"}
    full_env.update(env or {})
    return subprocess.run([sys.executable, script, *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env=full_env)


def one_error_line(done):
    lines = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    return lines[0]


# ----- 3. non-finite weights and outputs --------------------------------------------------------
def test_nan_and_inf_weights_are_refused_at_load_naming_the_tensors(weights):
    net = build_arch(TINY)
    with pytest.raises(WeightsError, match=r"1 tensor\(s\) hold NaN or infinite values: tail.weight \(NaN\)"):
        load_weights(net, weights["nan"])
    with pytest.raises(WeightsError, match=r"shallow_feat1.0.weight \(Inf\)"):
        MPRPredictor("Deblurring", weight_path=weights["inf"], backend="dygraph")
    with pytest.raises(WeightsError) as err:
        load_weights(net, weights["nan"])
    assert "alias" not in str(err.value)


def test_non_finite_output_is_a_per_image_error_and_auto_does_not_fall_back(weights, photos, tmp_path):
    predictor = MPRPredictor("Deblurring", weight_path=weights["overflow"], backend="dygraph", output_path=tmp_path)
    assert predictor.run([str(photos / "p0.png")]) == []
    [(source, error)] = predictor.failures
    assert error.startswith(f"{photos / 'p0.png'}: the output of backend dygraph holds") and "NaN" in error
    assert not (tmp_path / "Deblurring").exists() or not os.listdir(tmp_path / "Deblurring")
    start = time.time()
    with pytest.raises(PpirError, match="on a test image holds .* NaN .*no backend can restore"):
        MPRPredictor("Deblurring", weight_path=weights["overflow"], backend="auto", output_path=tmp_path)
    assert time.time() - start < 30  # refused before any export is tried


# ----- 4. decompression bombs and memory ------------------------------------------------------
def png_bomb(path, width, height):
    """A 1-bit gray PNG of ``width`` x ``height`` zeros: ~110 KB for 30000x30000 (900 megapixels)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)
    z = zlib.compressobj(9)
    body = b"".join(z.compress(row * 1000) for _ in range(height // 1000)) + z.compress(row * (height % 1000))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
                + chunk(b"IDAT", body + z.flush()) + chunk(b"IEND", b""))
    return str(path)


def test_a_decompression_bomb_is_refused_from_its_header_without_the_memory(tmp_path):
    from ppir.utils.image_io import read_image_header

    bomb = png_bomb(tmp_path / "bomb.png", 30000, 30000)
    assert os.path.getsize(bomb) < 200_000
    assert read_image_header(bomb) == (30000, 30000)
    # The peak of this process's own memory (VmHWM). Not ru_maxrss: Linux carries the forking
    # parent's peak across exec, so under a grown pytest process it read ~2 GB before any decoding.
    code = ("import sys\nfrom ppir.utils.image_io import read_image\n"
            "try:\n    read_image(sys.argv[1])\nexcept Exception as e:\n    print(e)\n"
            "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')))")
    done = subprocess.run([sys.executable, "-c", code, bomb], capture_output=True, text=True, timeout=TIMEOUT)
    message, peak_kb = done.stdout.strip().splitlines()
    assert message == (f"{bomb}: 30000x30000 image (900 megapixels) is over the limit of 200 megapixels; to read "
                       "it anyway raise the limit with PPIR_MAX_IMAGE_PIXELS=<pixels> (--max_pixels in the apps)")
    assert int(peak_kb) < 400_000  # decoding it took 1.8 GB (and 4.7 GB in the apps)


def test_pixel_limit_override_and_opencv_limit_in_one_line(tmp_path, monkeypatch):
    small = str(tmp_path / "small.png")
    write_image(small, np.zeros((40, 50, 3), np.uint8))
    monkeypatch.setenv("PPIR_MAX_IMAGE_PIXELS", "1999")
    with pytest.raises(ImageReadError, match="50x40 image .* over the limit of 0.002 megapixels"):
        read_image(small)
    monkeypatch.setenv("PPIR_MAX_IMAGE_PIXELS", "2000")
    assert read_image(small).shape == (40, 50, 3)
    assert read_image(small, max_pixels=10**9).shape == (40, 50, 3)
    monkeypatch.setenv("PPIR_MAX_IMAGE_PIXELS", "2e9")  # past ours, OpenCV's own limit (2^30) speaks
    with pytest.raises(ImageReadError) as err:
        read_image(png_bomb(tmp_path / "big.png", 40000, 30000))
    assert "CV_IO_MAX_IMAGE_PIXELS" in str(err.value) and "-215" not in str(err.value)
    assert "Assertion" not in str(err.value) and "loadsave.cpp" not in str(err.value)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".webp", ".tif", ".ppm", ".pgm"])
def test_read_image_header_knows_the_formats_it_reads(tmp_path, ext):
    from ppir.utils.image_io import read_image_header

    path = str(tmp_path / f"x{ext}")
    image = np.zeros((37, 53) if ext == ".pgm" else (37, 53, 3), np.uint8)
    assert cv2.imwrite(path, image)
    assert read_image_header(path) == (53, 37)


def test_apps_max_pixels_flag(module_home, weights, photos, tmp_path):
    done = run_tool(MPRNET, "--input_image", photos / "p0.png", "--weight_path", weights["good"],
                    "--backend", "dygraph", "--output_path", tmp_path, "--max_pixels", "1000")
    assert done.returncode == 1
    assert "48x40 image (0.0019 megapixels) is over the limit of 0.001 megapixels" in done.stdout


def test_out_of_memory_is_retried_with_smaller_tiles(weights, tmp_path):
    """A real out-of-memory: the address space is capped just above what the loaded predictor
    uses, so the whole 320x320 image cannot run but its tiles can."""
    code = f"""
import resource, numpy as np
from ppir.apps import MPRPredictor
p = MPRPredictor("Deblurring", weight_path={weights['good']!r}, backend="dygraph", output_path={str(tmp_path)!r})
p.run(np.zeros((40, 48, 3), np.uint8))
size = [int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmSize:")][0]
image = np.random.default_rng(0).integers(0, 256, (320, 320, 3), dtype=np.uint8)
resource.setrlimit(resource.RLIMIT_AS, (size + (60 << 20), resource.RLIM_INFINITY))
print(p.run(image).shape)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(320, 320, 3)" in done.stdout
    assert "out of memory with the whole image; trying again in tiles of 160" in done.stderr


def test_out_of_memory_everywhere_says_what_was_tried_and_no_tile_advice():
    from ppir.apps.oom import OutOfMemory, with_smaller_tiles

    def restore_at(tile):  # a real MemoryError: more bytes than any machine has
        return np.ones(((tile or 512) << 40,), np.uint8)

    with pytest.raises(OutOfMemory) as err:
        with_smaller_tiles(restore_at, 300, 512, 256, 32, 8)
    text = str(err.value)
    assert text.startswith("out of memory for a 512x300 image; tried tiles of 256, tiles of 128, tiles of 64")
    assert "--tile " not in text


# ----- 5. places ------------------------------------------------------------------------------
def test_bad_output_places_are_one_line_before_any_network(module_home, weights, photos, tmp_path):
    from ppir.errors import PlaceError

    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(PlaceError, match="a_file: output folder is a file, not a folder"):
        MPRPredictor("Deblurring", weight_path=tmp_path / "missing.pdparams", output_path=blocker)
    done = run_tool(MPRNET, "--input_image", photos / "p0.png", "--weight_path", weights["good"],
                    "--output_path", blocker / "deeper")
    assert done.returncode == 2 and "output folder cannot be made" in one_error_line(done)
    done = run_tool(EXPORT, "--arch", "MPRNet", "--weight_path", weights["good"], "--output", blocker / "exp")
    assert done.returncode == 2 and "export folder cannot be made" in one_error_line(done)
    done = run_tool(EXPORT, "--arch", "MPRNet", "--weight_path", weights["good"], "--output", blocker)
    assert done.returncode == 2 and "export folder is a file" in one_error_line(done)


def test_an_unusable_cache_only_matters_to_what_uses_it(weights, photos, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    env = {"PPIR_HOME": str(blocker / "home")}
    done = run_tool(MPRNET, "--input_image", photos / "p0.png", "--weight_path", weights["good"],
                    "--backend", "dygraph", "--output_path", tmp_path / "out", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    done = run_tool(MPRNET, "--input_image", photos / "p0.png", "--output_path", tmp_path / "out", env=env)
    assert done.returncode == 2
    line = one_error_line(done)
    assert "cache folder cannot be made" in line and "set PPIR_HOME to a writable folder" in line


def test_run_records_write_failures_and_resets_failures_per_call(module_home, weights, photos, tmp_path):
    predictor = MPRPredictor("Deblurring", weight_path=weights["good"], backend="dygraph", output_path=tmp_path)
    (tmp_path / "Deblurring" / "p1.png").mkdir(parents=True)  # a folder where the result should go
    written = predictor.run(str(photos))
    assert [os.path.basename(p) for p in written] == ["p0.png", "p2.png"]
    [(source, error)] = predictor.failures
    assert source == str(photos / "p1.png")
    assert error == f"{source}: {tmp_path / 'Deblurring' / 'p1.png'}: cannot write (Is a directory)"
    assert not [n for n in os.listdir(tmp_path / "Deblurring") if n.endswith(".tmp")]
    predictor.run(np.zeros((8, 8, 3), np.uint8))
    assert predictor.failures == []


# ----- 6. interruptions -----------------------------------------------------------------------
@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_batch_cleanly(module_home, weights, tmp_path, sig, status):
    folder = tmp_path / "many"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(150):
        cv2.imwrite(str(folder / f"{i:03d}.png"), rng.integers(0, 256, (96, 96, 3), dtype=np.uint8))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, MPRNET, "--input_image", str(folder), "--weight_path", weights["good"],
         "--backend", "dygraph", "--output_path", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + TIMEOUT
        results = out / "Deblurring"
        while time.time() < deadline and proc.poll() is None:
            if results.is_dir() and len(os.listdir(results)) >= 2:
                break
            time.sleep(0.02)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == status, stderr[-2000:]
    assert "Traceback" not in stderr
    summary = [line for line in stdout.splitlines() if line.startswith("restored ")]
    assert len(summary) == 1 and "of 150 image(s)" in summary[0]
    assert f"interrupted by {signal.Signals(sig).name}" in summary[0]
    names = os.listdir(results)
    assert not [n for n in names if not n.endswith(".png")], names
    restored = int(summary[0].split()[1])
    assert 0 < restored < 150 and len(names) == restored
    for name in names:
        assert read_image(results / name).shape == (96, 96, 3)


# ----- 7. bad input without tracebacks --------------------------------------------------------
def test_weights_that_cannot_serve_the_task_are_refused_at_load(weights):
    with pytest.raises(WeightsError, match="take 3-channel input, the defocus_deblurring task gives 6"):
        MIRNetV2Predictor("defocus_deblurring", weight_path=weights["mirnetv2_rgb"], backend="dygraph")
    with pytest.raises(WeightsError, match=r"empty shape: tail.weight \[3, 0, 3, 3\]"):
        MPRPredictor("Deblurring", weight_path=weights["empty"], backend="dygraph")


def test_convert_weights_with_a_zero_width_is_one_line(weights, tmp_path):
    done = run_tool(CONVERT, "--src", weights["good"], "--dst", tmp_path / "x.pdparams", "--arch", "MPRNet",
                    "--opt", "n_feat=0")
    assert done.returncode == 2
    assert "MPRNet cannot be built with n_feat=0" in one_error_line(done)
    with pytest.raises(ConfigError):
        build_arch({"name": "MIRNetV2", "n_feat": 0})


def test_run_given_a_list_with_junk_reports_each_item(module_home, weights, photos, tmp_path):
    predictor = MPRPredictor("Deblurring", weight_path=weights["good"], backend="dygraph", output_path=tmp_path)
    written = predictor.run([str(photos / "p0.png"), None, 3, np.zeros((4, 4, 3), np.uint8)])
    assert len(written) == 1
    errors = [error for _, error in predictor.failures]
    assert errors == ["None is not a file, folder or pattern", "3 is not a file, folder or pattern",
                      "an array of shape (4, 4, 3) is not a file, folder or pattern; restore an array on its own: "
                      "run(array)"]


# ----- 8. words -------------------------------------------------------------------------------
def test_a_renamed_key_is_called_renamed(weights):
    with pytest.raises(WeightsError) as err:
        MPRPredictor("Deblurring", weight_path=weights["renamed"], backend="dygraph")
    text = str(err.value)
    assert "1 missing key (tail.weight), 1 unexpected key (tail.weightx)" in text
    assert "`tail.weight` \u2190 `tail.weightx`?" in text and "mismatch" not in text


def test_a_gray_2d_array_comes_back_2d(module_home, weights):
    predictor = MPRPredictor("Deblurring", weight_path=weights["good"], backend="dygraph")
    assert predictor.run(np.zeros((20, 30), np.uint8)).shape == (20, 30)
    assert predictor.run(np.zeros((20, 30, 1), np.uint8)).shape == (20, 30, 1)


def test_renamed_outputs_are_shown(module_home, weights, photos, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    cv2.imwrite(str(other / "p0.jpg"), np.zeros((40, 48, 3), np.uint8))
    out = tmp_path / "out"
    done = run_tool(MPRNET, "--input_image", photos / "p0.png", other / "p0.jpg", "--weight_path", weights["good"],
                    "--backend", "dygraph", "--output_path", out)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"  {other / 'p0.jpg'} -> {out / 'Deblurring' / 'p0_2.png'} (same name as another input)" in done.stdout
