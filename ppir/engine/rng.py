"""Seeding and saving the state of every random generator a run touches (Python, NumPy, Paddle).

``ppir.weights.save_checkpoint`` stores these states (tuples, arrays and Paddle's RNG state
objects) and ``load_checkpoint`` reads them back through its restricted unpickler.
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
    """Python's, NumPy's and Paddle's generator states, in a form ``ppir.weights.save_checkpoint`` keeps."""
    return {"python": random.getstate(), "numpy": np.random.get_state(), "paddle": paddle.get_rng_state()}


def restore_rng_state(state):
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np.random.set_state(tuple(state["numpy"]))
    paddle.set_rng_state(list(state["paddle"]))
