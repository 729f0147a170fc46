"""Network architectures. Importing this package registers every architecture in
``ppir.registry.ARCHS``; ``build_arch({'name': 'MPRNet', 'task': 'Deblurring', ...})`` builds one.

To add an architecture, add one ``from . import <module>  # noqa: F401`` line below.
"""
from ..errors import ConfigError
from ..registry import ARCHS
from . import mprnet  # noqa: F401
from . import mirnet  # noqa: F401
from . import mirnet_v2  # noqa: F401


def build_arch(cfg):
    """Build the network named by ``cfg['name']`` with the remaining keys as constructor kwargs.

    An unknown name raises the registry's KeyError listing the registered architectures; sizes
    that make no network (``n_feat=0``) are a ``ConfigError``, not a ZeroDivisionError. Any other
    error of a constructor is a bug in it and surfaces as itself.
    """
    try:
        return ARCHS.build(cfg)
    except ArithmeticError as exc:
        sizes = [f"{k}={v!r}" for k, v in cfg.items()
                 if k != "name" and isinstance(v, (int, float)) and not isinstance(v, bool) and v <= 0]
        if not sizes:
            raise  # not caused by a size of the config: the constructor's own bug
        raise ConfigError(f"{cfg['name']} cannot be built with {', '.join(sizes)} ({exc}); sizes must be positive") from None
