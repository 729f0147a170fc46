"""MPRPredictor end to end on real photos, with a briefly trained tiny MPRNet (see
``apps_fixtures.trained_denoiser_weights``) and the dygraph backend (backends: test_apps_backends)."""
import numpy as np
import paddle
import pytest
from PIL import Image
from skimage import data

from ppir.apps import MPRPredictor
from ppir.utils.padding import pad_to_multiple
from ppir.errors import ConfigError, WeightsError
from ppir.utils.download import DownloadError
from ppir.utils.image_io import read_image, write_image
from apps_fixtures import TINY_MPRNET, LocalFileServer, add_noise, psnr, trained_denoiser_weights
@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PPIR_HOME", str(tmp_path / "ppir_home"))
    monkeypatch.delenv("PPIR_WEIGHTS_MIRROR", raising=False)


@pytest.fixture(scope="module")
def weights():
    return trained_denoiser_weights()


def predictor(weights, tmp_path, **options):
    options.setdefault("backend", "dygraph")
    return MPRPredictor("denoising", weight_path=weights, output_path=str(tmp_path / "out"), **options)


def test_folder_of_real_photos_of_every_kind(weights, tmp_path):
    folder = tmp_path / "photos"
    odd = add_noise(data.hubble_deep_field()[:701, :997])
    write_image(folder / "hubble_997x701.png", odd)
    write_image(folder / "cat.jpg", data.chelsea())
    deep = (data.coffee()[:61, :90].astype(np.uint16) * 257 + 100).astype(np.uint16)
    write_image(folder / "deep16.png", deep)
    gray = data.camera()[:123, :77]
    write_image(folder / "gray.png", gray[:, :, None])
    rgba = data.logo()[:101, :93]
    write_image(folder / "logo_rgba.png", rgba)
    write_image(folder / "tiny_1x1.png", np.full((1, 1, 3), 90, np.uint8))
    write_image(folder / "tiny_5x3.png", np.arange(45, dtype=np.uint8).reshape(5, 3, 3))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways, shown rotated 90 degrees clockwise
    Image.fromarray(data.astronaut()[:40, :64]).save(folder / "phone.jpg", exif=exif, quality=95)

    p = predictor(weights, tmp_path)
    written = p.run(str(folder))
    assert not p.failures
    out = {path.rsplit("/", 1)[1]: read_image(path) for path in written}
    assert all(path.startswith(str(tmp_path / "out" / "Denoising")) for path in written)
    assert out["hubble_997x701.png"].shape == (701, 997, 3)
    assert psnr(out["hubble_997x701.png"], odd) < 35  # restored, not copied
    assert out["cat.png"].shape == (300, 451, 3) and out["cat.png"].dtype == np.uint8
    assert out["deep16.png"].dtype == np.uint16 and out["deep16.png"].shape == deep.shape
    assert psnr(out["deep16.png"], deep, 65535.0) > 25
    assert out["gray.png"].shape == (123, 77, 1)
    assert out["logo_rgba.png"].shape == (101, 93, 4)
    np.testing.assert_array_equal(out["logo_rgba.png"][:, :, 3], rgba[:, :, 3])
    assert out["tiny_1x1.png"].shape == (1, 1, 3) and out["tiny_5x3.png"].shape == (5, 3, 3)
    assert out["phone.png"].shape == (64, 40, 3)  # upright


def test_bad_inputs_fail_one_line_each_and_the_batch_goes_on(weights, tmp_path):
    good = tmp_path / "good.png"
    write_image(good, data.chelsea()[:32, :40])
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "readme.jpg"
    text.write_text("not a picture")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(good.read_bytes()[:-30])
    no_images = tmp_path / "no_images"
    no_images.mkdir()
    (no_images / "notes.txt").write_text("x")
    missing = tmp_path / "missing.png"
    also_good = tmp_path / "sub" / "also_good.jpg"
    write_image(also_good, data.astronaut()[:24, :16])

    p = predictor(weights, tmp_path)
    sources = [str(missing), str(empty), str(good), str(text), str(truncated), str(no_images),
               str(tmp_path / "nothing*.png"), str(also_good)]
    written = p.run(sources)
    assert [w.rsplit("/", 1)[1] for w in written] == ["good.png", "also_good.png"]
    reasons = dict((str(source), reason) for source, reason in p.failures)
    assert len(reasons) == 6
    assert all("\n" not in r and str(s).split("*")[0] in r for s, r in reasons.items())
    assert "no such file" in reasons[str(missing)]
    assert "empty file" in reasons[str(empty)]
    assert "not an image" in reasons[str(text)]
    assert "truncated" in reasons[str(truncated)]
    assert "holds no images" in reasons[str(no_images)]
    assert "matches no files" in reasons[str(tmp_path / "nothing*.png")]


def restore_manually(net, img_float):
    """pad (reflect, bottom/right, to 8) -> net -> final output -> crop -> clip, on HxWx3 float."""
    x = img_float.transpose(2, 0, 1)[None].astype(np.float32)
    padded, (h, w) = pad_to_multiple(x, 8)
    with paddle.no_grad():
        out = net(paddle.to_tensor(padded))[0].numpy()
    return np.clip(out[:, :, :h, :w], 0, 1)[0].transpose(1, 2, 0)


def test_array_in_array_out_rounds_like_a_manual_run(weights, tmp_path):
    img = add_noise(data.coffee()[:45, :67])
    p = predictor(weights, tmp_path, tile=0)
    out = p.run(img)
    manual = np.round(restore_manually(p.net, img.astype(np.float32) / 255) * 255).astype(np.uint8)
    assert out.dtype == np.uint8 and out.shape == img.shape
    np.testing.assert_array_equal(out, manual)


def test_self_ensemble_equals_manual_average_of_eight(weights, tmp_path):
    img = add_noise(data.chelsea()[:20, :28])
    p = predictor(weights, tmp_path, tile=0, self_ensemble=True)
    x = img.astype(np.float32) / 255
    total = None
    for flip in (False, True):
        source = x[:, ::-1] if flip else x
        for k in range(4):
            back = np.rot90(restore_manually(p.net, np.ascontiguousarray(np.rot90(source, k))), -k)
            back = back[:, ::-1] if flip else back
            total = back if total is None else total + back
    manual = np.round(total / 8 * 255).astype(np.uint8)
    out = p.run(img)
    assert np.abs(out.astype(int) - manual).max() <= 1 and np.mean(out == manual) > 0.999
    assert not np.array_equal(out, predictor(weights, tmp_path, tile=0).run(img))


def test_tiled_matches_whole_image(weights, tmp_path):
    """Blending seams must not show: tiles of 128 with 32 shared pixels on a 256x320 photo give
    the same picture as one pass to >= 45 dB. The rest of the difference is the network's own:
    channel attention averages over what it sees, and MPRNet cuts its input into halves and
    quarters, so tiles move those internal cuts."""
    clean = data.coffee()[:256, :320]
    noisy = add_noise(clean)
    whole = predictor(weights, tmp_path, tile=0).run(noisy)
    assert psnr(whole, clean) > psnr(noisy, clean) + 4  # the net really restores
    p = predictor(weights, tmp_path, tile=128, tile_overlap=32)
    tiles = []
    backend = p.backend
    p.backend = lambda x: tiles.append(x.shape) or backend(x)
    tiled = p.run(noisy)
    assert len(tiles) == 3 * 3 and set(tiles) == {(1, 3, 128, 128)}
    assert psnr(tiled, whole) >= 45


def test_automatic_tile_size_follows_the_memory_budget(weights, tmp_path):
    p = predictor(weights, tmp_path)
    assert p.tile_for(256, 320) is None  # plenty of memory for a small photo
    p._bytes_per_pixel = p._bytes_per_pixel * 1e5  # as if memory were 100000x scarcer
    tile = p.tile_for(256, 320)
    assert tile is not None and tile % 8 == 0 and tile > p.tile_overlap


def test_default_weights_come_through_the_download_cache(weights, tmp_path, monkeypatch):
    with open(weights, "rb") as f:
        body = f.read()
    with LocalFileServer() as server:
        server.add("/mirror/MPR_Deraining.pdparams", body)
        monkeypatch.setenv("PPIR_WEIGHTS_MIRROR", server.base_url + "/mirror")
        first = MPRPredictor("DERAINING", output_path=str(tmp_path / "out"), backend="dygraph")
        second = MPRPredictor("Deraining", output_path=str(tmp_path / "out"), backend="dygraph")
        assert server.requests["/mirror/MPR_Deraining.pdparams"] == 1
    assert first.weights_source == second.weights_source
    assert first.weights_source.startswith(str(tmp_path / "ppir_home" / "weights"))
    written = first.run(str(_write(tmp_path / "in" / "rainy.png", data.chelsea()[:30, :30])))
    assert written == [str(tmp_path / "out" / "Deraining" / "rainy.png")]
    assert first.arch_cfg["n_feat"] == TINY_MPRNET["n_feat"]  # widths read from the weights


def _write(path, img):
    return write_image(path, img)


def test_offline_default_weights_fail_with_the_url_and_a_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("PPIR_WEIGHTS_MIRROR", "http://127.0.0.1:9/unreachable")  # port 9: discard, closed
    with pytest.raises(DownloadError) as err:
        MPRPredictor("Deblurring", backend="dygraph")
    assert "http://127.0.0.1:9/unreachable/MPR_Deblurring.pdparams" in str(err.value)
    assert "weight_path" in str(err.value)


def test_wrong_task_and_wrong_weights_are_clear_errors(weights, tmp_path):
    with pytest.raises(ConfigError, match="Deblurring, Denoising, Deraining"):
        MPRPredictor("dehazing", weight_path=weights)
    bad = tmp_path / "other.pdparams"
    paddle.save({"conv.weight": paddle.zeros([3, 3, 1, 1])}, str(bad))
    with pytest.raises(WeightsError):
        MPRPredictor("Deraining", weight_path=str(bad), backend="dygraph")
    with pytest.raises(ConfigError, match="tile_overlap"):
        predictor(weights, tmp_path, tile=32, tile_overlap=32)
