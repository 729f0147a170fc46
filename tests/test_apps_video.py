"""``--input_video`` with the real command line and the ffmpeg binary of imageio-ffmpeg: a short
clip made from scikit-image photos with a sine-wave AAC track round-trips with its frame count,
frame rate, size and audio packets kept, in one process and under ``paddle.distributed.launch
--nproc_per_node 2`` (frame ranges joined in order); broken videos are one line each; Ctrl-C leaves
nothing under the final name. Tiny MPRNet with random weights on dygraph, frames of 64x48."""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import cv2
import imageio_ffmpeg
import numpy as np
import pytest
from skimage import data

from ppir.apps import MPRPredictor
from ppir.apps.manifest import read_manifest
from scale_fixtures import LAUNCH, MPRNET, finish, start, tiny_mprnet_weights

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
FRAMES, SIZE, RATE = 24, (64, 48), "30000/1001"


def make_clip(path, frames, size, seconds_of_audio):
    """An H.264 + AAC MP4 of ``frames`` crops of skimage's astronaut at 29.97 fps."""
    photo = data.astronaut()
    raw = np.stack([cv2.resize(photo[i % 50 * 4 : i % 50 * 4 + 300, i % 60 * 5 : i % 60 * 5 + 400], size, interpolation=cv2.INTER_AREA)
                    for i in range(frames)])
    subprocess.run([FFMPEG, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size[0]}x{size[1]}",
                    "-r", RATE, "-i", "-", "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds_of_audio}",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(path)],
                   input=raw.tobytes(), check=True, timeout=120)
    return str(path)


def stream_facts(path):
    """(frame count, 'NN.NN fps', 'WxH') of the video stream, as ffmpeg reports them."""
    log = subprocess.run([FFMPEG, "-hide_banner", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "null", "-"],
                         capture_output=True, text=True, timeout=60).stderr
    video = re.search(r"Stream #0:\d+\S*: Video: (.*)", log).group(1)
    return (int(re.findall(r"frame=\s*(\d+)", log)[-1]), re.search(r"([\d.]+) fps", video).group(0),
            re.search(r" (\d+x\d+)[ ,]", video).group(1))


def audio_md5(path):
    done = subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-map", "0:a", "-c", "copy", "-f", "md5", "-"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def decoded(path, size):
    raw = subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-map", "0:v:0", "-f", "rawvideo", "-pix_fmt",
                          "rgb24", "-"], capture_output=True, timeout=60, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, size[1], size[0], 3)


def luma_psnr(a, b):
    """PSNR of the Y channels: H.264 keeps colour at half resolution, so compare brightness."""
    weights = np.array([0.299, 0.587, 0.114])
    return 10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) @ weights - b.astype(np.float64) @ weights) ** 2))


@pytest.fixture(scope="module")
def weights(tmp_path_factory, module_home):
    return tiny_mprnet_weights(tmp_path_factory.mktemp("video_weights"), seed=12)


def restore_args(weights, output, *videos):
    return [MPRNET, "--input_video", *map(str, videos), "--task", "denoising", "--weight_path", weights,
            "--backend", "dygraph", "--tile", "0", "--output_path", str(output)]


@pytest.fixture(scope="module")
def runs(weights, tmp_path_factory):
    """The clip restored by one process and by two launched processes, started together."""
    out = tmp_path_factory.mktemp("video_runs")
    clip = make_clip(out / "clip.mp4", FRAMES, SIZE, seconds_of_audio=1.0)
    single = start([sys.executable, *restore_args(weights, out / "single", clip)], out / "single.log")
    launched = start([*LAUNCH, "--log_dir",
                      str(out / "logs"), *restore_args(weights, out / "launched", clip)], out / "launched.log")
    return {"clip": clip, "out": out, "single": finish(single), "launched": finish(launched)}


def test_a_clip_round_trips_with_frames_rate_size_and_audio(runs, weights):
    code, log = runs["single"]
    assert code == 0, log[-3000:]
    assert "restored 1 of 1 video(s), 24 frame(s)" in log
    assert re.search(r"clip\.mp4: 100%\|.*\| 24/24 ", log), log  # progress in frames
    folder = runs["out"] / "single" / "Denoising"
    output = folder / "clip.mp4"
    assert sorted(os.listdir(folder)) == ["clip.mp4", "manifest.jsonl"]  # nothing half-done left
    assert stream_facts(output) == stream_facts(runs["clip"]) == (FRAMES, "29.97 fps", "64x48")
    assert audio_md5(output) == audio_md5(runs["clip"])  # the audio packets, unchanged

    frames, restored = decoded(runs["clip"], SIZE), decoded(output, SIZE)
    predictor = MPRPredictor("denoising", weight_path=weights, backend="dygraph", tile=0)
    for i in (0, FRAMES // 3, 2 * FRAMES // 3):  # in order, each restored (H.264 at CRF 17 in between)
        expected = predictor.restore(frames[i])
        assert luma_psnr(restored[i], expected) > 32, i
        assert luma_psnr(restored[i + 1], expected) < 25, i  # not its neighbour's
        assert luma_psnr(frames[i], expected) < 20, i  # the network does change it
    (entry,) = read_manifest(folder / "manifest.jsonl")
    assert entry["status"] == "restored" and entry["frames"] == FRAMES and entry["output"] == str(output)


def test_two_processes_split_the_frames_and_join_them_in_order(runs):
    code, log = runs["launched"]
    assert code == 0, log[-3000:]
    assert log.count("restored 1 of 1 video(s), 24 frame(s)") == 1
    workers = [(runs["out"] / "logs" / f"workerlog.{r}").read_text(errors="replace") for r in range(2)]
    assert all(re.search(r"clip\.mp4: 100%\|.*\| 12/12 ", w) for w in workers)  # half the frames each
    folder = runs["out"] / "launched" / "Denoising"
    assert sorted(os.listdir(folder)) == ["clip.mp4", "manifest.jsonl"]
    assert stream_facts(folder / "clip.mp4") == (FRAMES, "29.97 fps", "64x48")
    assert audio_md5(folder / "clip.mp4") == audio_md5(runs["clip"])
    joined, single = decoded(folder / "clip.mp4", SIZE), decoded(runs["out"] / "single" / "Denoising" / "clip.mp4", SIZE)
    assert min(luma_psnr(a, b) for a, b in zip(joined, single)) > 30  # the same frames, in the same order


def test_unreadable_and_truncated_videos_are_one_line_each(weights, tmp_path):
    clip = make_clip(tmp_path / "long.mp4", 60, (128, 96), seconds_of_audio=2.0)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(open(clip, "rb").read()[: os.path.getsize(clip) * 2 // 3])  # header first: frames go missing
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video\n")
    code, log = finish(start([sys.executable, *restore_args(weights, tmp_path / "out", cut, notes)], tmp_path / "log"))
    assert code == 1 and "Traceback" not in log, log
    assert "restored 0 of 2 video(s)" in log and "2 failed:" in log
    failures = log.split("2 failed:\n")[1].strip().splitlines()
    assert len(failures) == 2
    assert f"{cut}: truncated or corrupt video" in failures[0] and f"{notes}: not a readable video" in failures[1]
    assert sorted(os.listdir(tmp_path / "out" / "Denoising")) == ["manifest.jsonl"]


def test_ctrl_c_leaves_nothing_under_the_final_name(weights, tmp_path):
    clip = make_clip(tmp_path / "long.mp4", 150, (128, 96), seconds_of_audio=5.0)
    folder = tmp_path / "out" / "Denoising"
    run = start([sys.executable, *restore_args(weights, tmp_path / "out", clip)], tmp_path / "log")
    deadline = time.monotonic() + 120
    while run.poll() is None and not re.search(r"long\.mp4:\s+\d+%\|.*\| [1-9]\d*/150", open(run.log).read()):
        assert time.monotonic() < deadline, "no frame restored"
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    code, log = finish(run)
    assert code != 0, log
    assert not (folder / "long.mp4").exists()
    assert (os.listdir(folder) if folder.is_dir() else []) == []  # no part files, no temporary file


def test_frame_rates_as_ffmpeg_prints_them_become_exact_rationals():
    from ppir.apps.video import rational_fps

    assert [rational_fps(r) for r in ("25", "29.97", "23.98", "59.94", "12.5", "30")] == [
        "25", "30000/1001", "24000/1001", "60000/1001", "25/2", "30"]
    assert rational_fps("1", "k") == "1000"


def test_skip_existing_leaves_a_restored_video_alone(runs, weights, tmp_path):
    assert runs["single"][0] == 0
    output = tmp_path / "Denoising" / "clip.mp4"
    output.parent.mkdir()
    shutil.copy2(runs["out"] / "single" / "Denoising" / "clip.mp4", output)
    before = os.stat(output).st_mtime_ns
    code, log = finish(start([sys.executable, *restore_args(weights, tmp_path, runs["clip"]), "--skip_existing"],
                             tmp_path / "skip.log"))
    assert code == 0 and "restored 0 of 1 video(s)" in log and "1 skipped (already restored)" in log, log
    assert os.stat(output).st_mtime_ns == before
    (entry,) = read_manifest(output.parent / "manifest.jsonl")
    assert entry["status"] == "skipped"
