"""Restoring a video frame by frame: ``<output_path>/<task>/<stem>.mp4`` with the same number of
frames, frame rate and size (times the factor for super-resolution), and the audio tracks copied
unchanged.

ffmpeg is the binary that ``imageio-ffmpeg`` ships (nothing to install by hand). Frames are never
all in memory: one ffmpeg process decodes the video into a pipe of raw RGB frames, the predictor
restores them one by one (``predictor.restore``: tiles, backends and self-ensemble apply per
frame), and another ffmpeg process encodes them (H.264, CRF 17) from a pipe; decoding and encoding
run on background threads (``pipeline.overlapped``). The frames are encoded without sound into a
hidden part file; the part files are then joined (ffmpeg's concat demuxer, no re-encoding) with the
audio of the source into a temporary file, its frame count is checked, and only then is it renamed
to the final name: an interrupted run leaves no half-written ``<stem>.mp4``.

Under ``paddle.distributed.launch`` each process restores its own consecutive range of frames into
its own part file and rank 0 joins them in order (the parts go through the output folder, so with
several machines it must be shared). A video ffmpeg cannot read, or one that ends early
(truncated), is a failure of that input, in one line.
"""
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction

from tqdm import tqdm

from ..errors import PpirError
from ..utils.distributed import gather_from_all_ranks
from . import manifest, pipeline, sharding
from .backends.selection import one_line
from .base_predictor import PER_IMAGE_ERRORS, describe_failure

CRF = "17"  # visually lossless H.264
# What ffmpeg says about a file that ends early or holds damaged packets, and about other problems.
TRUNCATED = r"partial file|corrupt input packet|moov atom not found"
PROBLEMS = TRUNCATED + r"|Invalid data|No such file|Permission denied|Decoding error"


class VideoError(PpirError):
    """A video ffmpeg cannot read, or one that ends before its last frame."""


@dataclass
class VideoInfo:
    width: int
    height: int
    fps: str  # a rational ffmpeg takes, e.g. "25" or "30000/1001"
    frames: int
    audio: bool


def ffmpeg():
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def probe(path):
    """``VideoInfo`` of the first video stream of ``path``; the frames are counted by reading the
    stream's packets (fast: nothing is decoded)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise VideoError(f"{path}: no such file")
    done = subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-i", path, "-map", "0:v:0", "-c", "copy",
                           "-f", "null", "-"], capture_output=True, text=True, errors="replace")
    text = done.stderr
    stream = re.search(r"Stream #\S+: Video: (.*)", text)
    if done.returncode != 0 or stream is None:
        raise VideoError(f"{path}: not a readable video ({_reason(text) or 'no video stream in it'})")
    if re.search(TRUNCATED, text):
        raise VideoError(f"{path}: truncated or corrupt video ({_reason(text)})")
    size = re.search(r"(?:^|[ ,])(\d{1,5})x(\d{1,5})(?:[ ,\[]|$)", stream.group(1))
    rate = re.search(r"([\d.]+)(k?) fps", stream.group(1)) or re.search(r"([\d.]+)(k?) tbr", stream.group(1))
    frames = re.findall(r"frame=\s*(\d+)", text)
    if size is None or rate is None or not frames or int(frames[-1]) == 0:
        raise VideoError(f"{path}: no video frames ffmpeg can read")
    fps = rational_fps(rate.group(1), rate.group(2))
    audio = re.search(r"Stream #\S+: Audio: ", text) is not None
    return VideoInfo(int(size.group(1)), int(size.group(2)), fps, int(frames[-1]), audio)


def _reason(ffmpeg_log):
    """The line of ffmpeg's log that says what is wrong with the input, without its [component]."""
    for line in ffmpeg_log.splitlines():
        if re.search(PROBLEMS, line):
            return re.sub(r"^(\[[^\]]*\]\s*)+", "", line.strip())
    return None


def rational_fps(number, thousands=""):
    """ffmpeg prints rates rounded ('29.97'); the NTSC family is N*1000/1001 exactly."""
    value = float(number) * (1000 if thousands else 1)
    ntsc = value * 1.001
    if value != round(value) and abs(ntsc - round(ntsc)) < 0.01:
        return f"{round(ntsc) * 1000}/1001"
    fraction = Fraction(number).limit_denominator(1001) * (1000 if thousands else 1)
    return str(fraction.numerator) if fraction.denominator == 1 else f"{fraction.numerator}/{fraction.denominator}"


def output_path(folder, path):
    return os.path.join(folder, os.path.splitext(os.path.basename(os.fspath(path)))[0] + ".mp4")


def restore_video(predictor, path, folder, rank=0, world=1, skip_existing=False):
    """Restore the video ``path`` into ``folder``; every rank calls this, each restores its frame
    range. Returns the manifest entry on rank 0 (with ``frames``), None on the others."""
    start = time.perf_counter()
    path = os.fspath(path)
    output = output_path(folder, path)
    if skip_existing and os.path.exists(output):
        return dict(manifest.entry(path, output, "skipped", 0, rank), frames=0) if rank == 0 else None
    parts = os.path.join(folder, f".{os.path.basename(output)}.parts")
    part = os.path.join(parts, f"part{rank:05d}.mp4")
    error, frames, info = None, 0, None
    try:
        info = probe(path)
        first, end = sharding.frame_range(info.frames, rank, world)
        if end > first:
            os.makedirs(parts, exist_ok=True)
            frames = restore_frames(predictor, path, info, first, end, part)
    except PER_IMAGE_ERRORS as err:  # VideoError is one
        error = describe_failure(path, err)
    except BaseException:  # interrupted: nothing stays behind
        _remove_tree(parts)
        raise
    results = gather_from_all_ranks({"error": error, "frames": frames})
    if rank != 0:
        return None
    errors = [r["error"] for r in results if r["error"]]
    try:
        if errors:
            raise VideoError(errors[0])
        frames = sum(r["frames"] for r in results)
        written = [os.path.join(parts, f"part{r:05d}.mp4") for r, result in enumerate(results) if result["frames"]]
        join(written, path, info, output)
        status, error = "restored", None
    except VideoError as err:
        status, error, output = "failed", str(err), None
    finally:
        _remove_tree(parts)
    return dict(manifest.entry(path, output, status, time.perf_counter() - start, rank, error),
                frames=frames if status == "restored" else 0)


def restore_frames(predictor, path, info, first, end, part):
    """Decode frames [first, end) of ``path``, restore each, encode them (no audio) into ``part``;
    returns the number of frames."""
    reader = Decoder(path, info, first, end)
    writer = Encoder(part, info.fps)
    progress = tqdm(total=end - first, unit="frame", desc=os.path.basename(path), file=sys.stderr)
    try:
        for _ in pipeline.overlapped(iter(reader), predictor.restore, writer.write):
            progress.update(1)
        reader.check(end - first)
        writer.close()
        return end - first
    except BaseException:
        writer.abort()
        raise
    finally:
        reader.stop()
        progress.close()


class Decoder:
    """Frames [first, end) of a video's first video stream as HxWx3 uint8 RGB arrays."""

    def __init__(self, path, info, first, end):
        self.path, self.info, self.count = path, info, 0
        self.log = tempfile.TemporaryFile()
        trim = f"trim=start_frame={first}:end_frame={end},setpts=PTS-STARTPTS"
        self.proc = subprocess.Popen(
            [ffmpeg(), "-v", "error", "-nostdin", "-i", path, "-map", "0:v:0", "-vf", trim, "-fps_mode", "passthrough",
             "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log)

    def __iter__(self):
        import numpy as np

        h, w = self.info.height, self.info.width
        size = h * w * 3
        while True:
            data = self.proc.stdout.read(size)
            if len(data) < size:
                return
            self.count += 1
            yield np.frombuffer(data, np.uint8).reshape(h, w, 3)

    def check(self, expected):
        code = self.proc.wait()
        if code != 0 or self.count != expected:
            self.log.seek(0)
            lines = [line.strip() for line in self.log.read().decode(errors="replace").splitlines() if line.strip()]
            detail = f": {lines[-1]}" if lines else ""
            raise VideoError(f"{self.path}: truncated or corrupt video (decoded {self.count} of {expected} "
                             f"frames{detail})")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


class Encoder:
    """Raw RGB frames in, an H.264 MP4 without sound out; started at the first frame (its size is
    the restored size)."""

    def __init__(self, path, fps):
        self.path, self.fps, self.proc = path, fps, None
        self.log = tempfile.TemporaryFile()

    def write(self, frame):
        if self.proc is None:
            h, w = frame.shape[:2]
            pixel_format = "yuv420p" if h % 2 == 0 and w % 2 == 0 else "yuv444p"  # 4:2:0 needs even sides
            self.proc = subprocess.Popen(
                [ffmpeg(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", self.fps,
                 "-i", "-", "-an", "-c:v", "libx264", "-crf", CRF, "-pix_fmt", pixel_format, "-f", "mp4", self.path],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.log)
        try:
            self.proc.stdin.write(frame.tobytes())
        except BrokenPipeError:
            raise VideoError(f"{self.path}: the encoder stopped: {self._last_line()}") from None

    def close(self):
        self.proc.stdin.close()
        if self.proc.wait() != 0:
            raise VideoError(f"{self.path}: the encoder failed: {self._last_line()}")
        self.log.close()

    def abort(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        _remove(self.path)

    def _last_line(self):
        self.log.seek(0)
        lines = [line.strip() for line in self.log.read().decode(errors="replace").splitlines() if line.strip()]
        return lines[-1] if lines else "no message"


def join(parts, source, info, output):
    """Concatenate ``parts`` in order with the audio of ``source`` into ``output`` (atomically);
    audio that MP4 cannot hold as it is is re-encoded to AAC, with a note."""
    folder = os.path.dirname(os.path.abspath(output))
    listing = os.path.join(os.path.dirname(parts[0]), "parts.txt")
    with open(listing, "w", encoding="utf-8") as f:
        for part in parts:
            f.write("file '{}'\n".format(os.path.abspath(part).replace("'", "'\\''")))
    tmp = os.path.join(folder, f".{os.path.basename(output)}.partial")
    command = [ffmpeg(), "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", listing, "-i", source,
               "-map", "0:v:0", "-map", "1:a?", "-c", "copy", "-f", "mp4", tmp]
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace")
        if done.returncode != 0 and info.audio:
            print(f"note: {source}: its audio does not fit in MP4 as it is; re-encoded to AAC", file=sys.stderr)
            done = subprocess.run(command[:-4] + ["-c:v", "copy", "-c:a", "aac", "-b:a", "256k", "-f", "mp4", tmp],
                                  capture_output=True, text=True, errors="replace")
        if done.returncode != 0:
            raise VideoError(f"{output}: could not write the video: {one_line(done.stderr.strip() or 'ffmpeg failed')}")
        written = probe(tmp).frames
        if written != info.frames:
            raise VideoError(f"{output}: wrote {written} frames, expected {info.frames}")
        os.replace(tmp, output)
    finally:
        _remove(tmp)


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _remove_tree(folder):
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            _remove(os.path.join(folder, name))
        try:
            os.rmdir(folder)
        except OSError:
            pass
