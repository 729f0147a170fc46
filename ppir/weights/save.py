"""Writing weights and training checkpoints, atomically.

``save_weights`` writes a Paddle state dict with ``paddle.save``, so the file also loads with
plain ``paddle.load`` + ``net.set_state_dict``. ``save_checkpoint`` pickles plain containers,
numbers, strings, numpy arrays (Paddle tensors become numpy arrays) and Paddle RNG states;
``load_checkpoint`` reads it back through the restricted unpickler.

Every write goes to a temporary file beside the target, is flushed and fsynced, then renamed
over the target: a crash mid-write leaves the previous file intact, never half a file.
"""
import io
import os
import pickle

import numpy as np
import paddle

from ..errors import WeightsError
from ..utils.atomic import atomic_write
from .load import read_weights_file
from .safe_pickle import NUMERIC_KINDS

# Paddle's RNG state object. It pickles as (class, BUILD with a tuple of ints and a list of
# ints); ``load_checkpoint`` rebuilds it only from exactly that shape of state.
GENERATOR_STATE = type(paddle.get_rng_state()[0])
_PLAIN_SCALARS = (type(None), bool, int, float, complex, str, bytes)


def save_weights(net_or_state, path):
    """Write a ``.pdparams`` from a ``paddle.nn.Layer`` or a flat ``{name: tensor or array}``."""
    if isinstance(net_or_state, paddle.nn.Layer):
        state = net_or_state.state_dict()
    elif isinstance(net_or_state, dict):
        state = {name: _weight_array(name, value) for name, value in net_or_state.items()}
    else:
        raise TypeError(f"save_weights needs a paddle.nn.Layer or a state dict, got {type(net_or_state).__name__}")
    buffer = io.BytesIO()
    paddle.save(state, buffer)
    atomic_write(path, buffer.getvalue())


def _weight_array(name, value):
    plain = to_plain(value, name)
    if not isinstance(plain, np.ndarray):
        raise TypeError(f"state dict entry {name!r} is a {type(value).__name__}, not a tensor or array")
    return plain


def save_checkpoint(obj, path):
    """Pickle ``obj`` (see ``to_plain`` for what it may hold) to ``path`` atomically."""
    atomic_write(path, pickle.dumps(to_plain(obj, "checkpoint"), protocol=4))


def to_plain(obj, where):
    """``obj`` with Paddle tensors turned into numpy arrays; a ``TypeError`` naming the entry for
    anything the restricted unpickler would refuse to read back (so no unreadable file is written)."""
    return _map_leaves(obj, _plain_leaf, where)


def _plain_leaf(value, where):
    if isinstance(value, paddle.Tensor):
        return value.numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        if value.dtype.kind not in NUMERIC_KINDS:
            raise TypeError(f"{where}: numpy {value.dtype} values cannot be saved (numbers only)")
        return value
    if isinstance(value, _PLAIN_SCALARS) or isinstance(value, GENERATOR_STATE):
        return value
    raise TypeError(f"{where}: a {type(value).__name__} cannot be saved in a checkpoint")


def _map_leaves(obj, convert, where):
    """``obj`` rebuilt as plain dicts, lists and tuples, with ``convert(value, where)`` applied to
    every other value (``where`` is its path, e.g. ``checkpoint['optimizer']['lr']``)."""
    if isinstance(obj, dict):
        return {
            _map_leaves(key, convert, where): _map_leaves(value, convert, f"{where}[{key!r}]")
            for key, value in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        items = [_map_leaves(value, convert, f"{where}[{i}]") for i, value in enumerate(obj)]
        return items if isinstance(obj, list) else tuple(items)
    return convert(obj, where)


def load_checkpoint(path):
    """What ``save_checkpoint`` wrote (arrays as numpy arrays, RNG states as Paddle objects)."""
    source = os.fspath(path)
    return _map_leaves(read_weights_file(source, _RNG_GLOBALS), _restore_generator_state, source)


class _GeneratorStateRecord:
    """Stand-in for Paddle's ``GeneratorState`` while unpickling: only records its state."""

    __slots__ = ("state",)

    def __setstate__(self, state):
        self.state = state


_RNG_GLOBALS = {(GENERATOR_STATE.__module__, GENERATOR_STATE.__qualname__): _GeneratorStateRecord}


def _restore_generator_state(value, source):
    return _generator_state(value.state, source) if isinstance(value, _GeneratorStateRecord) else value


def _generator_state(state, source):
    """A real ``GeneratorState`` from (device, seed, offset, [ints]), checked before Paddle parses it."""
    well_formed = (
        isinstance(state, tuple)
        and len(state) == 4
        and all(isinstance(v, int) for v in state[:3])
        and isinstance(state[3], list)
        and all(isinstance(c, int) and 0 <= c < 128 for c in state[3])
    )
    if not well_formed:
        raise WeightsError(f"{source}: malformed Paddle RNG state in checkpoint")
    restored = GENERATOR_STATE.__new__(GENERATOR_STATE)
    try:
        restored.__setstate__(state)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise WeightsError(f"{source}: malformed Paddle RNG state in checkpoint ({exc})") from None
    return restored
