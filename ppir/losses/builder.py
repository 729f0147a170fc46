"""Building a registered loss from a config, with config mistakes reported as ConfigError."""
from ..errors import ConfigError
from ..registry import LOSSES


def build_loss(cfg):
    """A loss layer from ``{'name': ..., **options}``; bad names/keys raise ConfigError."""
    if not isinstance(cfg, dict) or "name" not in cfg:
        raise ConfigError(f"a loss config must be a mapping with a 'name' key, got {cfg!r}")
    try:
        return LOSSES.build(cfg)
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"loss config {cfg!r}: {exc.args[0]}") from None
