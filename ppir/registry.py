"""Name -> class registries, so configs can say ``name: MPRNet`` instead of importing code.

One registry per kind of part. A class registers itself with a decorator and is built from a
config dict ``{'name': ..., **kwargs}``. Config mistakes (unknown name, unknown option, not a
mapping) raise ``UnknownNameError``/``ConfigError`` with the accepted choices in the message.
"""
import difflib
import inspect

from .errors import ConfigError


class UnknownNameError(ConfigError, KeyError):
    """An unknown registry name. Also a KeyError, as a failed lookup conventionally is."""

    def __str__(self):  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def accepted_options(cls):
    """Keyword names ``cls(...)`` accepts, following ``**kwargs`` up to parent classes.

    Returns None when the signature cannot be known (then nothing is checked up front).
    """
    names = []
    for klass in getattr(cls, "__mro__", ()):
        if "__init__" not in vars(klass):
            continue
        try:
            params = list(inspect.signature(klass.__init__).parameters.values())[1:]
        except (TypeError, ValueError):
            return None
        names += [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return list(dict.fromkeys(names))
    return None


def _close_match(name, choices):
    close = difflib.get_close_matches(str(name), list(choices), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


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
        raise UnknownNameError(
            f"unknown {self.kind} {name!r}.{_close_match(name, self._entries)} "
            f"Registered: {choices}"
        )

    def build(self, cfg, **defaults):
        """Instantiate ``cfg['name']`` with the remaining keys; ``defaults`` fill keys the config
        leaves out, where the class accepts them."""
        if not isinstance(cfg, dict) or "name" not in cfg:
            raise ConfigError(f"{'an' if self.kind[0] in 'aeiou' else 'a'} {self.kind} config must be a mapping with a 'name' key, got {cfg!r}")
        cls = self.get(cfg["name"])
        options = {k: v for k, v in cfg.items() if k != "name"}
        accepted = accepted_options(cls)
        if accepted is not None:
            unknown = sorted(set(options) - set(accepted))
            if unknown:
                hint = _close_match(unknown[0], accepted)
                raise ConfigError(
                    f"{self.kind} {cfg['name']}: unknown option(s) {', '.join(unknown)}.{hint} "
                    f"Accepted: {', '.join(accepted)}"
                )
            defaults = {k: v for k, v in defaults.items() if k in accepted}
        return cls(**{**defaults, **options})

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
