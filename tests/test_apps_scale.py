"""Restoring at scale with the real command line: ``paddle.distributed.launch --nproc_per_node 2``
on CPU (gloo) over a nested folder with a bad file, reruns with ``--skip_existing`` after a run
killed half-way, and the manifest. A tiny MPRNet with random weights (n_feat 8) on dygraph keeps
every run to a few seconds of compute; the launcher's start-up dominates."""
import os
import signal
import sys
import time

import pytest
from skimage import data

from ppir.apps.manifest import read_manifest
from ppir.utils.image_io import read_image, write_image
from scale_fixtures import LAUNCH, MPRNET, finish, start, tiny_mprnet_weights


# The nested folder: relative input path -> relative output path (under <output>/Denoising).
GOOD = {
    "top.png": "top.png",
    "trip/day1/beach.jpg": "trip/day1/beach.png",
    "trip/day1/beach.png": "trip/day1/beach_2.png",  # same stem in one folder: disambiguated
    "trip/day2/cat.png": "trip/day2/cat.png",
    "trip/gray.png": "trip/gray.png",
    "other/top.png": "other/top.png",  # same name as top.png, another folder: kept as is
}
BAD = "trip/day2/broken.png"


@pytest.fixture(scope="module")
def weights(tmp_path_factory, module_home):
    return tiny_mprnet_weights(tmp_path_factory.mktemp("scale_weights"), seed=11)


@pytest.fixture(scope="module")
def album(tmp_path_factory):
    root = tmp_path_factory.mktemp("album")
    photo = data.astronaut()
    for i, name in enumerate(GOOD):
        crop = photo[40 * i : 40 * i + 48, 60 * i : 60 * i + 64]
        write_image(root / name, crop[:, :, :1] if "gray" in name else crop)
    (root / BAD).write_bytes(b"\x89PNG\r\n\x1a\n but nothing else")
    return root


def restore_args(album, weights, output):
    return [MPRNET, "--input_image", str(album), "--task", "denoising", "--weight_path", weights,
            "--backend", "dygraph", "--tile", "0", "--output_path", str(output)]


@pytest.fixture(scope="module")
def runs(album, weights, tmp_path_factory):
    """The same folder restored by one process and by two launched processes (started together)."""
    out = tmp_path_factory.mktemp("runs")
    single = start([sys.executable, *restore_args(album, weights, out / "single")], out / "single.log")
    launched = start([*LAUNCH, "--log_dir", str(out / "logs"), *restore_args(album, weights, out / "launched")],
                     out / "launched.log")
    result = {"single": finish(single), "launched": finish(launched), "out": out}
    result["workers"] = [(out / "logs" / f"workerlog.{r}").read_text(errors="replace") for r in range(2)]
    return result


def outputs(folder):
    """Relative paths of the PNGs under ``folder``."""
    return sorted(os.path.relpath(os.path.join(d, n), folder) for d, _, names in os.walk(folder)
                  for n in names if n.endswith(".png"))


def test_two_processes_restore_each_input_once_like_one_process(runs, album):
    code, log = runs["launched"]
    assert code == 1, log[-3000:]  # one input failed
    assert "Traceback" not in log
    folder = runs["out"] / "launched" / "Denoising"
    assert outputs(folder) == sorted(GOOD.values())  # sub-folders kept, nothing else written
    single = runs["out"] / "single" / "Denoising"
    for name in GOOD.values():
        assert (folder / name).read_bytes() == (single / name).read_bytes(), name

    entries = read_manifest(folder / "manifest.jsonl")
    assert [e["input"] for e in entries] == sorted((str(album / n) for n in [*GOOD, BAD]), key=lambda p: p.lower())
    restored = {os.path.relpath(e["input"], album): e for e in entries if e["status"] == "restored"}
    assert {k: os.path.relpath(e["output"], folder) for k, e in restored.items()} == GOOD  # each exactly once
    assert {e["rank"] for e in entries} == {0, 1}
    assert all(e["seconds"] > 0 and e["error"] is None for e in restored.values())
    (bad,) = [e for e in entries if e["status"] == "failed"]
    assert bad["output"] is None and bad["input"] == str(album / BAD) and "not an image" in bad["error"]
    assert set(entries[0]) == {"input", "output", "status", "seconds", "rank", "error"}


def test_one_summary_for_the_whole_launched_run(runs, album):
    code, log = runs["launched"]
    rank0, rank1 = runs["workers"]
    assert log.count("restored 6 of 7 image(s)") == 1, log[-3000:]
    assert rank0.count("restored 6 of 7 image(s)") == 1 and "restored" not in rank1.replace("restore with", "")
    assert "7 image(s) to restore with dygraph (Paddle eager mode) over 2 processes" in rank0
    assert f"  {album / BAD}: not an image" in rank0
    assert "over 2 process(es)" in rank0 and "MP/s" in rank0
    assert f"{album / 'trip/day1/beach.png'} -> " in rank0 and "beach_2.png (same name as another input)" in rank0


def test_single_process_run_writes_the_same_manifest(runs):
    code, log = runs["single"]
    assert code == 1 and "restored 6 of 7 image(s)" in log and "over 1 process(es)" in log
    single = read_manifest(runs["out"] / "single" / "Denoising" / "manifest.jsonl")
    launched = read_manifest(runs["out"] / "launched" / "Denoising" / "manifest.jsonl")
    assert [(e["input"], e["status"]) for e in single] == [(e["input"], e["status"]) for e in launched]
    assert {e["rank"] for e in single} == {0}


def test_skip_existing_finishes_a_run_killed_half_way(weights, tmp_path):
    photos = tmp_path / "photos"
    names = [f"day{i // 4}/shot{i}.png" for i in range(8)]
    for i, name in enumerate(names):
        write_image(photos / name, data.astronaut()[20 * i : 20 * i + 192, 30 * i : 30 * i + 256])
    output = tmp_path / "out"
    folder = output / "Denoising"
    killed = start([sys.executable, *restore_args(photos, weights, output)], tmp_path / "killed.log")
    deadline = time.monotonic() + 120
    while not (folder.is_dir() and len(outputs(folder)) >= 2) and killed.poll() is None:
        assert time.monotonic() < deadline, "no output appeared"
        time.sleep(0.01)
    killed.send_signal(signal.SIGKILL)  # the hardest interruption: no clean-up at all
    finish(killed)
    before = {name: os.stat(folder / name).st_mtime_ns for name in outputs(folder)}
    assert 2 <= len(before) < len(names), before  # interrupted half-way
    assert not (folder / "manifest.jsonl").exists()

    code, log = finish(start([sys.executable, *restore_args(photos, weights, output), "--skip_existing"],
                             tmp_path / "rerun.log"))
    assert code == 0, log
    assert f"restored {len(names) - len(before)} of {len(names)} image(s)" in log and f"{len(before)} skipped" in log
    assert {name: os.stat(folder / name).st_mtime_ns for name in before} == before  # left alone
    assert outputs(folder) == names
    for name in names:
        assert read_image(folder / name).shape == (192, 256, 3), name
    statuses = {os.path.relpath(e["output"], folder): e["status"] for e in read_manifest(folder / "manifest.jsonl")}
    assert statuses == {name: "skipped" if name in before else "restored" for name in names}

    code, log = finish(start([sys.executable, *restore_args(photos, weights, output)], tmp_path / "again.log"))
    assert code == 0 and f"restored {len(names)} of {len(names)} image(s)" in log  # without it: overwrite
    assert all(os.stat(folder / name).st_mtime_ns != t for name, t in before.items())


def test_a_process_with_only_bad_inputs_or_none_ends_with_the_others(weights, tmp_path):
    write_image(tmp_path / "pair" / "a.png", data.astronaut()[:48, :64])
    (tmp_path / "pair" / "b.png").write_text("not a photo")  # rank 1's only input
    write_image(tmp_path / "one" / "a.png", data.astronaut()[:48, :64])  # rank 1 gets nothing
    runs = {name: start([*LAUNCH, "--log_dir", str(tmp_path / f"logs_{name}"),
                         *restore_args(tmp_path / name, weights, tmp_path / f"out_{name}")], tmp_path / f"{name}.log")
            for name in ("pair", "one")}
    code, log = finish(runs["pair"], timeout=180)
    assert code == 1 and "restored 1 of 2 image(s)" in log and f"{tmp_path / 'pair' / 'b.png'}: " in log, log[-3000:]
    assert [e["rank"] for e in read_manifest(tmp_path / "out_pair" / "Denoising" / "manifest.jsonl")] == [0, 1]
    code, log = finish(runs["one"], timeout=180)
    assert code == 0 and "restored 1 of 1 image(s)" in log, log[-3000:]
