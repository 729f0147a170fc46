"""Exponential moving average of a network's weights (``train.ema_decay``).

After every optimizer step ``ema = decay * ema + (1 - decay) * weight`` for each parameter
(shared parameters, like MPRNet's single PReLU, count once), kept in float32 even when AMP O2
trains float16 weights. Buffers are not averaged. Validation,
the best checkpoint and the released weights then use the averaged weights, swapped in with
:meth:`EMA.applied`.
"""
import contextlib

import numpy as np
import paddle


class EMA:
    def __init__(self, net, decay):
        self.decay = float(decay)
        self.params = dict(net.named_parameters())
        self.shadow = {name: p.detach().astype("float32").clone() for name, p in self.params.items()}

    @paddle.no_grad()
    def update(self):
        for name, p in self.params.items():
            self.shadow[name].set_value(self.decay * self.shadow[name] + (1.0 - self.decay) * p.detach().astype("float32"))

    def state_dict(self):
        return {name: value.numpy() for name, value in self.shadow.items()}

    def set_state_dict(self, state):
        for name, value in state.items():
            self.shadow[name].set_value(np.asarray(value))

    @contextlib.contextmanager
    def applied(self):
        """Run the block with the averaged weights in the network, then put the trained ones back."""
        trained = {name: p.detach().clone() for name, p in self.params.items()}
        for name, p in self.params.items():
            p.set_value(self.shadow[name].astype(p.dtype))
        try:
            yield
        finally:
            for name, p in self.params.items():
                p.set_value(trained[name])
