"""The predictor's numpy pieces: padding, tiling, self-ensemble, photo layout, input lists, memory."""
import os

import numpy as np
import pytest

from ppir.apps import inputs
from ppir.apps.ensemble import dihedral, inverse_dihedral, self_ensemble
from ppir.apps.memory import host_available_bytes, tile_for_budget
from ppir.utils.padding import crop, pad_to_multiple, padded_size
from ppir.apps.photo import join_photo, split_photo
from ppir.apps.tiling import run_tiled, tile_starts, window_1d
from ppir.errors import ImageReadError
from ppir.utils.image_io import write_image


def nchw(h, w, c=3, seed=0):
    return np.random.default_rng(seed).random((1, c, h, w), dtype=np.float32)


# ----- padding ---------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(1, 1), (5, 3), (8, 8), (9, 17), (2, 1)])
def test_pad_reaches_the_multiple_and_crops_back(size):
    x = nchw(*size)
    padded, original = pad_to_multiple(x, 8)
    assert padded.shape[2] % 8 == 0 and padded.shape[3] % 8 == 0
    assert padded.shape[2] == padded_size(size[0], 8) and padded.shape[3] == padded_size(size[1], 8)
    np.testing.assert_array_equal(crop(padded, original), x)


def test_padding_mirrors_bottom_right_and_repeats_single_pixels():
    x = np.arange(5 * 3, dtype=np.float32).reshape(1, 1, 5, 3)
    padded, _ = pad_to_multiple(x, 8)
    # reflect: rows 5, 6, 7 mirror rows 3, 2, 1 (the edge row itself is not repeated)
    np.testing.assert_array_equal(padded[0, 0, 5:8, :3], x[0, 0, [3, 2, 1], :])
    one = np.full((1, 3, 1, 1), 0.25, np.float32)
    np.testing.assert_array_equal(pad_to_multiple(one, 8)[0], np.full((1, 3, 8, 8), 0.25, np.float32))


# ----- tiling ----------------------------------------------------------------------------------
def test_tile_starts_cover_evenly_with_at_least_the_overlap():
    for length, tile, overlap in [(1000, 256, 32), (997, 96, 16), (257, 256, 32), (100, 100, 8), (50, 64, 8)]:
        starts = tile_starts(length, tile, overlap)
        assert starts[0] == 0 and starts[-1] == max(length - tile, 0)
        shared = [tile - (b - a) for a, b in zip(starts, starts[1:])]
        assert all(s >= overlap for s in shared)
        assert not shared or max(shared) - min(shared) <= 1  # the step adapts, evenly


def test_window_ramps_only_towards_neighbours_and_crossing_ramps_sum_to_one():
    w = window_1d(64, 16, rise=True, fall=False)
    assert 0 < w[0] < 0.01 and np.all(w[16:] == 1) and np.all(np.diff(w[:16]) > 0)
    fall = window_1d(64, 16, rise=False, fall=True)
    np.testing.assert_allclose(w[:16] + fall[-16:], 1.0, atol=1e-6)


def test_tiled_identity_and_position_independent_op_are_exact():
    x = nchw(70, 53)
    np.testing.assert_allclose(run_tiled(lambda t: t, x, 32, 8), x, atol=1e-6)
    np.testing.assert_allclose(run_tiled(lambda t: 1 - t, x, (24, 40), 8), 1 - x, atol=1e-6)


def test_tiles_see_only_their_own_part():
    seen = []
    x = nchw(40, 100)
    run_tiled(lambda t: seen.append(t.shape) or t, x, 32, 8)
    assert set(seen) == {(1, 3, 32, 32)} and len(seen) == 2 * 4


# ----- self-ensemble ---------------------------------------------------------------------------
def test_dihedral_transforms_are_distinct_and_invertible():
    x = nchw(4, 6, c=1)
    outs = [dihedral(x, m) for m in range(8)]
    assert len({o.tobytes() + bytes(o.shape) for o in outs}) == 8
    for m in range(8):
        np.testing.assert_array_equal(inverse_dihedral(dihedral(x, m), m), x)


def test_self_ensemble_equals_manual_average():
    x = nchw(6, 10)

    def position(shape):
        return np.arange(shape[2] * shape[3], dtype=np.float32).reshape(shape[2], shape[3]) / 100

    def restore(t):  # depends on pixel position, so no two transforms give the same result
        return t * 0.5 + position(t.shape)

    manual = []
    for flip in (False, True):
        source = x[:, :, :, ::-1] if flip else x
        for k in range(4):
            turned = np.rot90(source, k, axes=(2, 3))
            back = np.rot90(turned * 0.5 + position(turned.shape), -k, axes=(2, 3))
            manual.append(back[:, :, :, ::-1] if flip else back)
    assert len({m.tobytes() for m in manual}) == 8
    np.testing.assert_allclose(self_ensemble(restore, x), np.mean(manual, axis=0), rtol=1e-6, atol=1e-6)


# ----- photo layout ----------------------------------------------------------------------------
def test_gray_rgba_and_16_bit_keep_their_layout():
    rng = np.random.default_rng(1)
    gray = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    photo = split_photo(gray)
    assert photo.rgb.shape == (5, 7, 3) and photo.gray
    np.testing.assert_array_equal(join_photo(photo.rgb, photo), gray)  # HxW in, HxW out

    rgba = rng.integers(0, 65536, (4, 3, 4), dtype=np.uint16)
    photo = split_photo(rgba)
    assert photo.rgb.shape == (4, 3, 3) and photo.dtype == np.uint16
    back = join_photo(1 - photo.rgb, photo)
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back[:, :, 3], rgba[:, :, 3])  # alpha untouched
    np.testing.assert_array_equal(back[:, :, :3], 65535 - rgba[:, :, :3])


def test_bad_arrays_are_rejected_in_one_line():
    for bad in (np.zeros((4, 4, 2), np.uint8), np.zeros((4, 4, 3), np.float64), np.zeros((0, 4, 3), np.uint8)):
        with pytest.raises(ImageReadError):
            split_photo(bad)


# ----- input lists -----------------------------------------------------------------------------
def test_folder_glob_list_and_unique_names(tmp_path):
    img = np.zeros((2, 2, 3), np.uint8)
    for name in ("img10.png", "img2.jpg", "img2.png", "notes.txt"):
        path = tmp_path / "photos" / name
        if name.endswith(".txt"):
            path.write_text("x")
        else:
            write_image(path, img)
    (tmp_path / "empty").mkdir()
    folder = str(tmp_path / "photos")
    paths, failures = inputs.expand_all([folder, str(tmp_path / "photos" / "*.jpg"), str(tmp_path / "empty"),
                                         str(tmp_path / "none*.png"), str(tmp_path / "missing.png")])
    names = [os.path.basename(p) for p in paths]
    assert names == ["img2.jpg", "img2.png", "img10.png", "img2.jpg", "missing.png"]
    assert [f[1].split(": ")[1] for f in failures] == ["folder holds no images", "pattern matches no files"]
    assert inputs.output_names(paths) == ["img2.png", "img2_2.png", "img10.png", "img2_3.png", "missing.png"]


def test_pairs_from_folders_and_tuples(tmp_path):
    img = np.zeros((2, 2, 3), np.uint8)
    for side, names in (("inputL", ["a.png", "b.png", "c.png"]), ("inputR", ["a.png", "b.png", "d.png"])):
        for name in names:
            write_image(tmp_path / "dp" / side / name, img)
    pairs, failures = inputs.expand_pairs(str(tmp_path / "dp"))
    assert [tuple(os.path.basename(p) for p in pair) for pair in pairs] == [("a.png", "a.png"), ("b.png", "b.png")]
    assert sorted(os.path.basename(f[0]) for f in failures) == ["c.png", "d.png"]
    pairs, failures = inputs.expand_pairs(("l.png", "r.png"))
    assert pairs == [("l.png", "r.png")] and not failures
    pairs, failures = inputs.expand_pairs(str(tmp_path))
    assert not pairs and "inputL and inputR" in failures[0][1]


# ----- memory ----------------------------------------------------------------------------------
def test_tile_from_budget():
    assert tile_for_budget(100, 100, 104 * 104, 8) is None  # padded 104x104 fits
    assert tile_for_budget(4000, 3000, 1000 * 1000, 8) == 1000
    assert tile_for_budget(4000, 3000, 999 * 999, 8) == 992
    assert tile_for_budget(4000, 3000, 10, 4) == 4
    assert host_available_bytes() > 1 << 20
