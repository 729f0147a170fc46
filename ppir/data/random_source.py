"""Where a dataset's random numbers come from, so that seeding the trainer makes runs repeatable.

By default datasets draw from NumPy's global generator (``np.random``). The trainer seeds it in
the main process; Paddle's ``DataLoader`` then reseeds it in every worker process from
``SeedSequence(base_seed, worker_id)``, where ``base_seed`` is drawn from the main process's NumPy
generator each time an epoch's iterator starts (paddle/io/dataloader/worker.py). So each worker
gets a distinct stream, and the whole run is repeatable from the trainer's seed, for any
``num_workers``.

A dataset given its own ``seed`` instead owns a ``RandomState``. In a worker process that state
is replaced, on first use, by one seeded from ``(seed, worker id, Paddle's base seed)``: without
this, the workers' forked copies would all replay the same numbers.
"""
import numpy as np
from paddle.io import get_worker_info


class RandomSource:
    def __init__(self, seed=None):
        self.seed = None if seed is None else int(seed)
        self._state = None
        self._owner = None

    def get(self):
        """An object with NumPy's ``RandomState`` methods (``randint``, ``uniform``, ``normal``...)."""
        if self.seed is None:
            return np.random
        info = get_worker_info()
        owner = None if info is None else (info.id, info.seed)
        if self._state is None or owner != self._owner:
            entropy = [self.seed] if owner is None else [self.seed, *owner]
            self._state = seeded_state(*entropy)
            self._owner = owner
        return self._state


def seeded_state(*entropy):
    """A ``RandomState`` determined by any number of non-negative integers."""
    words = np.random.SeedSequence([int(e) for e in entropy]).generate_state(4)
    return np.random.RandomState(words)
