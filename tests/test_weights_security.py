"""Malicious weight files are refused before anything in them runs.

Each hostile pickle would create a sentinel file if it ran; the tests assert the load fails with
one WeightsError naming the file and the forbidden global, and that the sentinel never appears.
"""
import io
import os
import pickle
import subprocess
import zipfile

import numpy as np
import paddle
import pytest

from ppir.errors import WeightsError
from ppir.weights import load_checkpoint, load_weights, read_state_dict
from torch_format_writer import write_legacy_torch, write_torch_zip


class RunsShell:
    """Unpickles as ``os.system('touch <sentinel>')``."""

    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return os.system, (f"touch {self.sentinel}",)


class RunsEval:
    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return eval, (f"open({str(self.sentinel)!r}, 'w')",)


class StartsProcess:
    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return subprocess.Popen, (["touch", str(self.sentinel)],)


class RunsNumpyGadget:
    """numpy ships a function that executes a string; it must not be reachable either."""

    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        from numpy.testing._private.utils import runstring

        return runstring, (f"open({str(self.sentinel)!r}, 'w')", {})


PAYLOADS = {
    "os.system": (RunsShell, f"{os.system.__module__}.system"),  # 'posix.system' on Linux
    "builtins.eval": (RunsEval, "builtins.eval"),
    "subprocess.Popen": (StartsProcess, "subprocess.Popen"),
    "numpy runstring": (RunsNumpyGadget, "numpy.testing._private.utils.runstring"),
}


@pytest.fixture
def sentinel(tmp_path):
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "the malicious pickle ran"


def refusal(path, load=read_state_dict):
    with pytest.raises(WeightsError) as caught:
        load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: refused to unpickle forbidden global ") and "\n" not in message
    return message


def torch_zip_with_pickle(path, pickled):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickled)
        archive.writestr("archive/byteorder", "little")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_malicious_pth_zip_is_refused(tmp_path, sentinel, payload):
    make, global_name = PAYLOADS[payload]
    path = tmp_path / "model_deblurring.pth"
    torch_zip_with_pickle(path, pickle.dumps({"state_dict": make(sentinel)}, protocol=2))
    assert f"'{global_name}'" in refusal(path)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_malicious_pdparams_is_refused(tmp_path, sentinel, payload):
    make, global_name = PAYLOADS[payload]
    path = tmp_path / "mprnet.pdparams"
    path.write_bytes(pickle.dumps({"conv.weight": np.ones(2, np.float32), "evil": make(sentinel)}, protocol=4))
    assert f"'{global_name}'" in refusal(path, lambda p: load_weights(paddle.nn.Linear(2, 2), p))


def test_payload_hidden_among_real_tensors_in_a_torch_zip(tmp_path, sentinel):
    path = tmp_path / "looks_fine.pth"
    state = {f"layer{i}.weight": np.full((2, 2), i, np.float32) for i in range(5)}
    state["layer5.weight"] = RunsShell(sentinel)
    write_torch_zip(path, {"state_dict": state})
    refusal(path)


def test_payload_in_a_legacy_torch_file(tmp_path, sentinel):
    path = tmp_path / "legacy.pth"
    write_legacy_torch(path, {"state_dict": {"w": np.ones(3, np.float32)}, "evil": RunsShell(sentinel)})
    refusal(path)


@pytest.mark.parametrize("protocol", [0, 1])
def test_text_protocol_pickles_are_refused_too(tmp_path, sentinel, protocol):
    path = tmp_path / "old.pdparams"
    path.write_bytes(pickle.dumps([RunsShell(sentinel)], protocol=protocol))
    refusal(path)


def test_malicious_checkpoint_is_refused(tmp_path, sentinel):
    path = tmp_path / "last.pdckpt"
    path.write_bytes(pickle.dumps({"iteration": 3, "rng": StartsProcess(sentinel)}, protocol=4))
    assert "'subprocess.Popen'" in refusal(path, load_checkpoint)


def test_object_arrays_are_refused(tmp_path, sentinel):
    path = tmp_path / "objects.pdparams"
    path.write_bytes(pickle.dumps({"w": np.array([1, "x"], dtype=object)}, protocol=4))
    with pytest.raises(WeightsError, match=r"objects\.pdparams: truncated or corrupt pickle .*dtype object is not allowed"):
        read_state_dict(path)


class CallsNdarray:
    """Calls the ndarray constructor directly (buffer/offset/strides reach raw memory)."""

    def __reduce__(self):
        return np.ndarray, ((4,), "f4", b"\x00" * 4, 0, (1 << 40,))


def test_ndarray_constructor_cannot_be_called(tmp_path):
    path = tmp_path / "strides.pdparams"
    path.write_bytes(pickle.dumps({"w": CallsNdarray()}, protocol=2))
    with pytest.raises(WeightsError, match=r"strides\.pdparams: truncated or corrupt pickle \(TypeError"):
        read_state_dict(path)


def _tensor_pickle(size, stride, offset=0):
    """data.pkl of ``{'w': tensor}`` over a 4-element float storage '0', geometry as given."""
    def ints(values):
        return b"(" + b"".join(b"J" + v.to_bytes(4, "little", signed=True) for v in values) + b"t"

    storage_id = b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQ"
    return (
        b"\x80\x02}X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n("
        + storage_id + ints([offset])[1:-1] + ints(size) + ints(stride)
        + b"\x89ccollections\nOrderedDict\n)RtRs."
    )


@pytest.mark.parametrize(
    "size, stride, offset, problem",
    [
        ((2, 2), (2, 1), 0, None),
        ((4096,), (1,), 0, "tensor reaches element 4095 of a 4-element storage"),
        ((2,), (1 << 20,), 0, "tensor reaches element 1048576 of a 4-element storage"),
        ((2,), (1,), 3, "tensor reaches element 4 of a 4-element storage"),
        ((2,), (-1,), 3, "bad tensor geometry"),
        ((2,), (1,), -1, "bad tensor geometry"),
    ],
)
def test_torch_tensor_geometry_must_stay_inside_its_storage(tmp_path, size, stride, offset, problem):
    """A crafted size/stride/offset must not read memory beyond the storage's bytes."""
    path = tmp_path / "geometry.pth"
    torch_zip_with_pickle(path, _tensor_pickle(size, stride, offset))
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("archive/data/0", np.arange(4, dtype=np.float32).tobytes())
    if problem is None:  # the well-formed control case
        np.testing.assert_array_equal(read_state_dict(path)["w"], [[0, 1], [2, 3]])
        return
    with pytest.raises(WeightsError, match=rf"geometry\.pth: truncated or corrupt pickle .*{problem}"):
        read_state_dict(path)


def _generator_state_pickle(state):
    """A pickled Paddle ``GeneratorState`` carrying ``state`` (as paddle pickles one)."""
    cls = type(paddle.get_rng_state()[0])
    name = f"{cls.__module__}\n{cls.__qualname__}\n".encode()
    return b"\x80\x02c" + name + b")\x81" + pickle.dumps(state, protocol=2)[2:-1] + b"b."


@pytest.mark.parametrize("state", [(1, 2), (-1, 5, 0, "1 2 3"), (-1, 5, 0, [1 << 40]), ("cpu", 5, 0, [52])])
def test_paddle_rng_state_must_be_well_formed(tmp_path, state):
    path = tmp_path / "rng.pdckpt"
    path.write_bytes(_generator_state_pickle(state))
    with pytest.raises(WeightsError, match=r"rng\.pdckpt: malformed Paddle RNG state in checkpoint"):
        load_checkpoint(path)


def test_paddle_rng_state_is_only_accepted_in_checkpoints(tmp_path):
    path = tmp_path / "rng.pdparams"
    path.write_bytes(_generator_state_pickle(paddle.get_rng_state()[0].__getstate__()))
    assert type(load_checkpoint(path)) is type(paddle.get_rng_state()[0])
    assert "GeneratorState'" in refusal(path)
