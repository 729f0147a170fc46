"""Name -> class registries, so configs can say ``name: MPRNet`` instead of importing code.

One registry per kind of part. A class registers itself with a decorator and is built from a
config dict ``{'name': ..., **kwargs}``; an unknown name is an error listing what is registered.
"""
import difflib


class Registry:
    def __init__(self, kind):
        self.kind = kind
        self._entries = {}

    def register(self, name=None):
        """Decorator: ``@ARCHS.register()`` registers under the class name, ``register('X')`` as X."""

        def add(obj):
            key = name or obj.__name__
            if key in self._entries and self._entries[key] is not obj:
                raise KeyError(f"{self.kind} {key!r} is already registered")
            self._entries[key] = obj
            return obj

        return add

    def get(self, name):
        if name in self._entries:
            return self._entries[name]
        choices = ", ".join(sorted(self._entries)) or "(none)"
        close = difflib.get_close_matches(str(name), list(self._entries), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown {self.kind} {name!r}.{hint} Registered {self.kind}s: {choices}")

    def build(self, cfg, **defaults):
        """Instantiate ``cfg['name']`` with the remaining keys (``defaults`` fill missing ones)."""
        if not isinstance(cfg, dict) or "name" not in cfg:
            raise ValueError(f"a {self.kind} config must be a mapping with a 'name' key, got {cfg!r}")
        kwargs = dict(defaults)
        kwargs.update({k: v for k, v in cfg.items() if k != "name"})
        return self.get(cfg["name"])(**kwargs)

    def names(self):
        return sorted(self._entries)

    def __contains__(self, name):
        return name in self._entries

    def __repr__(self):
        return f"Registry({self.kind!r}, {self.names()})"


ARCHS = Registry("architecture")
DATASETS = Registry("dataset")
LOSSES = Registry("loss")
METRICS = Registry("metric")
