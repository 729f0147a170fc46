"""Seeding and saving the state of every random generator a run touches (Python, NumPy, Paddle).

States are plain data (tuples, lists, numpy arrays), so checkpoints stay readable through the
restricted unpickler of ``ppir.weights``.
"""
import random

import numpy as np
import paddle


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed % 2**32)
    paddle.seed(seed)


def derived_seed(*parts):
    """A 32-bit seed determined by integers (run seed, epoch, rank, ...), for per-item streams."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def capture_rng_state():
    """Python's, NumPy's and Paddle's generator states as plain tuples, lists and arrays.

    Paddle's own state objects are turned into ``(device, seed, offset, engine bytes)`` so that a
    checkpoint holds nothing but plain data and ``load_weights`` can read it too (``--load ckpt``).
    """
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "paddle": [_plain_paddle_state(s) for s in paddle.get_rng_state()],
    }


def restore_rng_state(state):
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np.random.set_state(tuple(state["numpy"]))
    paddle.set_rng_state([_paddle_state(s) for s in state["paddle"]])


_GENERATOR_STATE = type(paddle.get_rng_state()[0])


def _plain_paddle_state(gen_state):
    # pybind's GeneratorState pickles as (device, seed, offset, [bytes of the engine's text state]).
    device, seed, offset, engine = gen_state.__getstate__()
    return {"device": int(device), "seed": int(seed), "offset": int(offset), "engine": np.asarray(engine, np.uint8)}


def _paddle_state(plain):
    restored = _GENERATOR_STATE.__new__(_GENERATOR_STATE)
    restored.__setstate__((plain["device"], plain["seed"], plain["offset"], [int(b) for b in plain["engine"]]))
    return restored
