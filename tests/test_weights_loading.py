"""Loading every wrapper format strictly, the errors a user sees, and saving weights/checkpoints."""
import collections
import json
import os
import pickle
import random
import zipfile
from pathlib import Path

import numpy as np
import paddle
import pytest

from ppir.archs import build_arch
from ppir.errors import WeightsError
from ppir.weights import load_checkpoint, load_weights, read_state_dict, save_checkpoint, save_weights
from torch_format_writer import write_legacy_torch, write_torch_zip

FIXTURES = Path(__file__).parent / "fixtures"
MPRNET_PTH = FIXTURES / "mprnet_small.pth"
MPRNET_CONFIG = json.loads((FIXTURES / "mprnet_small.json").read_text())["config"]


def small_mprnet(**overrides):
    return build_arch({"name": "MPRNet", **MPRNET_CONFIG, **overrides})


def net_values(net):
    return {name: tensor.numpy() for name, tensor in net.state_dict().items()}


def assert_net_holds(net, state):
    values = net_values(net)
    assert sorted(values) == sorted(state)
    for name, value in state.items():
        np.testing.assert_array_equal(values[name], value, err_msg=name)


def alias_groups(net):
    """Lists of state-dict keys that reach one shared tensor."""
    groups = collections.defaultdict(list)
    for name, tensor in net.state_dict().items():
        groups[id(tensor)].append(name)
    return [names for names in groups.values() if len(names) > 1]


@pytest.fixture(scope="module")
def official():
    """The fixture's state dict with official PyTorch names (``module.`` stripped)."""
    return read_state_dict(MPRNET_PTH)


def load_error(weights, net):
    with pytest.raises(WeightsError) as caught:
        load_weights(net, weights)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- every wrapper an official or PaddleGAN file comes in -------------------------------------

WRAPPERS = {
    "state_dict with module. prefix": lambda sd: {"epoch": 3, "state_dict": {f"module.{k}": v for k, v in sd.items()}},
    "state_dict with optimizer": lambda sd: {"state_dict": sd, "optimizer": {"param_groups": [{"lr": 2e-4}]}},
    "params": lambda sd: {"params": sd},
    "params_ema": lambda sd: {"params_ema": sd},
    "bare state dict": lambda sd: collections.OrderedDict(sd),
}
TORCH_WRITERS = {"zip": write_torch_zip, "legacy": write_legacy_torch}


def test_fixture_keys_are_the_official_ones(official):
    net = small_mprnet()
    assert set(official) == set(net.state_dict())
    assert len(official) == 226 and len(alias_groups(net)) == 1 and len(alias_groups(net)[0]) == 37


@pytest.mark.parametrize("writer", TORCH_WRITERS)
@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_torch_wrappers_load(tmp_path, official, wrapper, writer):
    path = tmp_path / "weights.pth"
    TORCH_WRITERS[writer](path, WRAPPERS[wrapper](official))
    state = read_state_dict(path)
    assert sorted(state) == sorted(official)
    net = small_mprnet()
    report = load_weights(net, path)
    assert_net_holds(net, official)
    assert (len(report.loaded), report.missing, report.unexpected) == (226, [], [])


def test_paddle_save_of_nested_tensors_loads(tmp_path, official):
    """paddle.save({'generator': net.state_dict()}) pickles each tensor as (name, array)."""
    source = small_mprnet()
    load_weights(source, official)
    path = tmp_path / "iter_100_weight.pdparams"
    paddle.save({"generator": source.state_dict(), "epoch": 100}, str(path))
    net = small_mprnet()
    load_weights(net, path)
    assert_net_holds(net, official)


def test_paddlegan_generator_of_numpy_arrays_loads(tmp_path, official):
    """PaddleGAN's trainer converts tensors to numpy before pickling {'generator': ...}."""
    path = tmp_path / "epoch_3_checkpoint.pdparams"
    path.write_bytes(pickle.dumps({"generator": official, "epoch": 3, "optim": {"lr": 1e-4}}, protocol=4))
    net = small_mprnet()
    load_weights(net, path)
    assert_net_holds(net, official)


def test_state_dict_argument_may_hold_paddle_tensors_or_be_wrapped(official):
    donor = small_mprnet()
    net = small_mprnet()
    load_weights(net, {"params": donor.state_dict()})
    assert_net_holds(net, net_values(donor))
    load_weights(net, official)
    assert_net_holds(net, official)


def test_big_endian_torch_zip_reads_the_same_values(tmp_path, official):
    path = tmp_path / "big.pth"
    write_torch_zip(path, {"state_dict": official}, byteorder="big")
    state = read_state_dict(path)
    for name, value in official.items():
        np.testing.assert_array_equal(state[name], value)
        assert state[name].dtype.isnative


def test_half_precision_file_is_cast_to_the_net_dtype(tmp_path, official):
    path = tmp_path / "half.pth"
    write_torch_zip(path, {k: v.astype(np.float16) for k, v in official.items()})
    net = small_mprnet()
    load_weights(net, path)
    assert_net_holds(net, {k: v.astype(np.float16).astype(np.float32) for k, v in official.items()})


def test_paddle_sliced_big_tensors_are_joined_like_paddle_load(tmp_path):
    """paddle.save with protocol 2/3 cuts tensors over 1 GiB into slices plus a table."""
    value = np.arange(20, dtype=np.float32).reshape(4, 5)
    flat = value.ravel()
    saved = {
        "w@@.0": flat[:12], "w@@.1": flat[12:], "b": np.ones(3, np.float32),
        "UnpackBigParamInfor@@": {"w": {"OriginShape": (4, 5), "slices": ["w@@.0", "w@@.1"]}},
    }
    path = tmp_path / "sliced.pdparams"
    path.write_bytes(pickle.dumps(saved, protocol=2))
    state = read_state_dict(path)
    reference = paddle.load(str(path), return_numpy=True)
    assert sorted(state) == sorted(reference) == ["b", "w"]
    np.testing.assert_array_equal(state["w"], reference["w"])
    np.testing.assert_array_equal(state["w"], value)


# --- which state dict in a file -----------------------------------------------------------------


AVERAGED_FILES = {  # the trained weights and their running average in one file
    "basicsr.pth": (lambda path, sd, avg: write_torch_zip(path, {"params": sd, "params_ema": avg}), "params_ema"),
    "last.pdckpt": (lambda path, sd, avg: save_checkpoint({"model": sd, "ema": avg, "iter": 3}, path), "ema"),
}


@pytest.mark.parametrize("name", AVERAGED_FILES)
def test_trained_weights_are_preferred_and_key_picks_the_average(tmp_path, official, name):
    write, average_key = AVERAGED_FILES[name]
    average = {k: v * 0.5 for k, v in official.items()}
    write(tmp_path / name, official, average)
    net = small_mprnet()
    load_weights(net, tmp_path / name)
    assert_net_holds(net, official)
    load_weights(net, tmp_path / name, key=average_key)
    assert_net_holds(net, average)


def test_unknown_key_names_the_entries_there_are(tmp_path, official):
    path = tmp_path / "basicsr.pth"
    write_torch_zip(path, {"params": official})
    with pytest.raises(WeightsError, match=r"basicsr\.pth: has no entry 'params_ema' \(it holds keys params\)"):
        read_state_dict(path, key="params_ema")


def test_key_that_is_not_a_state_dict_is_refused(tmp_path, official):
    path = tmp_path / "ckpt.pth"
    write_torch_zip(path, {"state_dict": official, "epoch": 7})
    with pytest.raises(WeightsError, match=r"ckpt\.pth: entry 'epoch' is not a state dict \(it holds an int\)"):
        read_state_dict(path, key="epoch")


def test_file_without_a_state_dict_is_refused(tmp_path):
    path = tmp_path / "optimizer_only.pth"
    write_torch_zip(path, {"epoch": 1, "optimizer": {"state": {0: {"exp_avg": np.zeros(3, np.float32)}}}})
    with pytest.raises(WeightsError, match=r"optimizer_only\.pth: holds no state dict \(keys epoch, optimizer\)"):
        read_state_dict(path)


# --- strict matching ----------------------------------------------------------------------------


def test_missing_unexpected_and_misshapen_keys_are_one_error(tmp_path, official):
    broken = dict(official)
    dropped = ["sam12.conv1.weight", "sam12.conv2.weight", "sam12.conv3.weight"]
    for name in dropped:
        del broken[name]
    broken["extra.weight"] = np.zeros(2, np.float32)
    broken["tail.weight"] = np.zeros((3, 7, 3, 3), np.float32)
    path = tmp_path / "broken.pth"
    write_torch_zip(path, {"state_dict": broken})
    net = small_mprnet()
    before = net_values(net)
    message = load_error(path, net)
    tail_shape = ",".join(map(str, official["tail.weight"].shape))
    assert message == (
        f"{path} does not match MPRNet: 3 missing keys ({', '.join(dropped)}), "
        f"1 unexpected key (extra.weight), 1 shape mismatch (tail.weight: file [3,7,3,3] vs net [{tail_shape}])"
    )
    assert_net_holds(net, before)  # nothing was set


def test_many_problems_show_the_first_few_and_a_count(official):
    net = small_mprnet()
    state = {k: v for k, v in official.items() if not k.startswith("stage3_orsnet")}
    message = load_error(state, net)
    # The ORSNet's PReLU keys are not missing: they alias the PReLU the other stages provide.
    missing = [k for k in official if k.startswith("stage3_orsnet") and k not in alias_groups(net)[0]]
    assert f"{len(missing)} missing keys ({', '.join(missing[:4])}, ... {len(missing) - 4} more)" in message


def test_not_strict_allows_missing_and_unexpected_keys_only(official):
    partial = {k: v for k, v in official.items() if not k.startswith("tail.")}
    partial["extra.weight"] = np.zeros(1, np.float32)
    net = small_mprnet()
    report = load_weights(net, partial, strict=False)
    assert report.missing == ["tail.weight"] and report.unexpected == ["extra.weight"]
    values = net_values(net)
    for name in partial.keys() - {"extra.weight"}:
        np.testing.assert_array_equal(values[name], partial[name])
    partial["tail.weight"] = np.zeros((1, 1), np.float32)
    with pytest.raises(WeightsError, match=r"1 shape mismatch \(tail\.weight: file \[1,1\]"):
        load_weights(net, partial, strict=False)
    with pytest.raises(WeightsError, match="does not match MPRNet: no key in common"):
        load_weights(net, {"unrelated.weight": np.zeros(1, np.float32)}, strict=False)


def test_aliases_of_the_shared_prelu_must_agree(tmp_path, official):
    net = small_mprnet()
    first, other = alias_groups(net)[0][0], alias_groups(net)[0][5]
    state = dict(official)
    state[other] = state[other] + 0.125
    path = tmp_path / "tampered.pth"
    write_torch_zip(path, {"state_dict": state})
    message = load_error(path, net)
    assert message == (
        f"{path} does not match MPRNet: 1 disagreeing alias of a shared parameter ({first} != {other})"
    )


def test_one_alias_of_a_shared_parameter_is_enough(official):
    net = small_mprnet()
    group = alias_groups(net)[0]
    state = {k: v for k, v in official.items() if k not in group[1:]}
    report = load_weights(net, state)
    assert set(report.loaded) == set(official) and report.missing == []
    for name in group:
        np.testing.assert_array_equal(net.state_dict()[name].numpy(), official[group[0]])


class TinyPaddleNet(paddle.nn.Layer):
    """Paddle's own nn.PReLU (parameter ``_weight``), shared by two blocks."""

    def __init__(self):
        super().__init__()
        act = paddle.nn.PReLU()
        self.a = paddle.nn.Sequential(paddle.nn.Conv2D(3, 4, 3), act)
        self.b = paddle.nn.Sequential(paddle.nn.Conv2D(4, 4, 1), act)


def test_pytorch_prelu_names_load_into_paddle_prelu(tmp_path):
    rng = np.random.default_rng(1)
    torch_names = {
        "a.0.weight": rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "a.0.bias": np.ones(4, np.float32),
        "a.1.weight": np.array([0.1], np.float32), "b.0.weight": np.ones((4, 4, 1, 1), np.float32),
        "b.0.bias": np.zeros(4, np.float32), "b.1.weight": np.array([0.1], np.float32),
    }
    path = tmp_path / "tiny.pth"
    write_torch_zip(path, {"state_dict": torch_names})
    net = TinyPaddleNet()
    load_weights(net, path)
    assert_net_holds(net, {k.replace("1.weight", "1._weight"): v for k, v in torch_names.items()})
    torch_names["b.1.weight"] = np.array([0.2], np.float32)
    with pytest.raises(WeightsError, match=r"disagreeing alias of a shared parameter \(a\.1\.weight != b\.1\.weight\)"):
        load_weights(net, torch_names)


def test_wrong_width_weights_are_refused_with_a_hint(tmp_path):
    """As Deraining weights (other widths) would be, loaded into a Deblurring-width net."""
    path = tmp_path / "deraining.pdparams"
    save_weights(small_mprnet(n_feat=8, scale_unetfeats=4, scale_orsnetfeats=4), path)
    message = load_error(path, small_mprnet())
    assert message.startswith(f"{path} does not match MPRNet: ")
    assert "shape mismatches (shallow_feat1.0.weight: file [8,3,3,3] vs net [16,3,3,3]" in message
    assert message.endswith(" - is the file for another architecture, task or width?")


def test_other_architecture_weights_are_refused_with_a_hint():
    path = FIXTURES / "mirnetv2_small.pth"
    message = load_error(path, small_mprnet())
    assert " missing keys (shallow_feat1.0.weight" in message and " unexpected keys (conv_in.weight" in message
    assert message.endswith(" - is the file for another architecture, task or width?")


# --- files that are not (whole) weights -----------------------------------------------------------


def _truncated_copy(tmp_path, source, name):
    data = Path(source).read_bytes()
    path = tmp_path / name
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize("writer", ["zip", "legacy", "paddle"])
def test_truncated_files_are_reported(tmp_path, official, writer):
    whole = tmp_path / "whole"
    if writer == "paddle":
        save_weights(official, whole)
    else:
        TORCH_WRITERS[writer](whole, {"state_dict": official})
    path = _truncated_copy(tmp_path, whole, "cut.pth")
    with pytest.raises(WeightsError, match=r"cut\.pth: truncated"):
        read_state_dict(path)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "empty file, not a weights file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "not a weights file"),
        (b"model: MPRNet\nlr: 2e-4\n", "not a weights file"),
        (pickle.dumps([1, 2, 3], protocol=2), r"holds no state dict \(a list\)"),
        (pickle.dumps({"a": "text"}, protocol=4), r"holds no state dict \(keys a\)"),
    ],
)
def test_non_weight_files_are_reported(tmp_path, content, expected):
    path = tmp_path / "thing.pdparams"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match=rf"thing\.pdparams: {expected}"):
        load_weights(small_mprnet(), path)


def test_missing_file_and_directory_are_reported(tmp_path):
    with pytest.raises(WeightsError, match=r"nope\.pth: no such file"):
        read_state_dict(tmp_path / "nope.pth")
    with pytest.raises(WeightsError, match="is a directory, not a weights file"):
        read_state_dict(tmp_path)


def test_whole_pickled_torch_module_gets_a_resave_hint(tmp_path):
    path = tmp_path / "model.pth"
    with open(path, "wb") as file:  # what torch.save(model) starts with: the module's class
        file.write(b"\x80\x02ctorch.nn.modules.container\nSequential\nq\x00)\x81q\x01.")
    with pytest.raises(WeightsError, match=r"re-save with torch\.save\(model\.state_dict\(\)\)"):
        read_state_dict(path)


# --- saving -----------------------------------------------------------------------------------------


def test_saved_weights_load_with_plain_paddle_and_with_load_weights(tmp_path, official):
    source = small_mprnet()
    load_weights(source, official)
    path = tmp_path / "out" / "mprnet.pdparams"
    save_weights(source, path)
    assert os.listdir(path.parent) == ["mprnet.pdparams"]  # no temporary file left behind
    plain = small_mprnet()
    plain.set_state_dict(paddle.load(str(path)))
    assert_net_holds(plain, official)
    ours = small_mprnet()
    load_weights(ours, path)
    assert_net_holds(ours, official)


def test_save_weights_accepts_a_state_dict_and_refuses_other_things(tmp_path, official):
    path = tmp_path / "from_dict.pdparams"
    save_weights(official, path)
    assert sorted(read_state_dict(path)) == sorted(official)
    with pytest.raises(TypeError, match="needs a paddle.nn.Layer or a state dict"):
        save_weights([1, 2], tmp_path / "x.pdparams")
    with pytest.raises(TypeError, match="entry 'lr' is a float"):
        save_weights({"lr": 0.1}, tmp_path / "x.pdparams")


def _trainer_state():
    """What a trainer checkpoints: model, EMA, optimizer, scheduler, AMP scaler, RNG states."""
    paddle.seed(5)
    net = paddle.nn.Linear(3, 2)
    scheduler = paddle.optimizer.lr.CosineAnnealingDecay(learning_rate=2e-4, T_max=10)
    optimizer = paddle.optimizer.Adam(learning_rate=scheduler, parameters=net.parameters())
    net(paddle.ones([4, 3])).mean().backward()
    optimizer.step()
    scheduler.step()
    scaler = paddle.amp.GradScaler(init_loss_scaling=1024)
    return {
        "model": net.state_dict(),
        "ema": {k: v * 0.5 for k, v in net.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        "rng": {"numpy": np.random.get_state(), "python": random.getstate(), "paddle": paddle.get_rng_state()},
        "iteration": 7, "best": (31.5, "iter_5"), "history": [np.float32(1.5), None, True],
    }


def _compare(saved, loaded, where="checkpoint"):
    if isinstance(saved, paddle.Tensor):
        saved = saved.numpy()
    if isinstance(saved, np.ndarray):
        assert isinstance(loaded, np.ndarray), where
        np.testing.assert_array_equal(loaded, saved, err_msg=where)
    elif isinstance(saved, dict):
        assert sorted(map(str, saved)) == sorted(map(str, loaded)), where
        for key in saved:
            _compare(saved[key], loaded[key], f"{where}[{key!r}]")
    elif isinstance(saved, (list, tuple)):
        assert type(loaded) is type(saved) and len(loaded) == len(saved), where
        for i, (a, b) in enumerate(zip(saved, loaded)):
            _compare(a, b, f"{where}[{i}]")
    elif type(saved).__name__ == "GeneratorState":
        assert type(loaded) is type(saved) and loaded.current_seed() == saved.current_seed(), where
    else:
        assert loaded == saved and type(loaded) is type(saved), where


def test_checkpoint_round_trip_keeps_every_training_state(tmp_path):
    state = _trainer_state()
    path = tmp_path / "ckpts" / "iter_7.pdckpt"
    save_checkpoint(state, path)
    loaded = load_checkpoint(path)
    _compare(state, loaded)
    np.random.seed(0)
    np.random.set_state(loaded["rng"]["numpy"])
    random.setstate(loaded["rng"]["python"])
    paddle.set_rng_state(loaded["rng"]["paddle"])
    draws = (np.random.rand(3), random.random(), paddle.rand([3]).numpy())
    np.random.set_state(state["rng"]["numpy"])
    random.setstate(state["rng"]["python"])
    paddle.set_rng_state(state["rng"]["paddle"])
    np.testing.assert_array_equal(draws[0], np.random.rand(3))
    assert draws[1] == random.random()
    np.testing.assert_array_equal(draws[2], paddle.rand([3]).numpy())


def test_checkpoint_refuses_what_it_could_not_read_back_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "last.pdckpt"
    save_checkpoint({"iteration": 1}, path)
    with pytest.raises(TypeError, match=r"checkpoint\['extra'\]\[0\]: a TinyPaddleNet cannot be saved"):
        save_checkpoint({"iteration": 2, "extra": [TinyPaddleNet()]}, path)
    with pytest.raises(TypeError, match=r"checkpoint\['names'\]: numpy <U1 values cannot be saved"):
        save_checkpoint({"names": np.array(["a"])}, path)
    assert load_checkpoint(path) == {"iteration": 1}
    assert os.listdir(tmp_path) == ["last.pdckpt"]


def test_failed_replace_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "occupied"
    (target / "inside").mkdir(parents=True)  # a non-empty directory cannot be replaced by a file
    with pytest.raises(OSError):
        save_checkpoint({"iteration": 1}, target)
    assert sorted(os.listdir(tmp_path)) == ["occupied"]


def test_torchscript_archive_and_foreign_zip_are_named(tmp_path):
    scripted = tmp_path / "scripted.pt"  # the entries torch.jit.save writes beside data.pkl
    with zipfile.ZipFile(scripted, "w") as archive:
        for entry in ("data.pkl", "constants.pkl", "code/__torch__/model.py", "version"):
            archive.writestr(f"scripted/{entry}", b"")
    with pytest.raises(WeightsError, match=r"scripted\.pt: a TorchScript archive \(torch\.jit\.save\), not weights"):
        read_state_dict(scripted)
    photos = tmp_path / "photos.zip"
    with zipfile.ZipFile(photos, "w") as archive:
        archive.writestr("photos/cat.png", b"\x89PNG")
    with pytest.raises(WeightsError, match=r"photos\.zip: a zip without '<name>/data\.pkl', not a torch\.save\(\) weights"):
        read_state_dict(photos)
