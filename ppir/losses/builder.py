"""Building a registered loss from a config; config mistakes raise ConfigError (see ppir.registry)."""
from ..registry import LOSSES


def build_loss(cfg):
    """A loss layer from ``{'name': ..., **options}``."""
    return LOSSES.build(cfg)
