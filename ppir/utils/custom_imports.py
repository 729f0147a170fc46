"""``custom_imports: [module, ...]`` (mmengine's convention): modules imported before anything is
built, so a user's own network (or dataset, loss, metric) registers itself with
``@ARCHS.register()`` and is trained, evaluated, restored and exported without editing ppir.

A module that cannot be found is a user mistake (a ``ConfigError`` naming it); an error raised
while the module runs is the module's own and surfaces as itself.
"""
import importlib
import os
import sys

from ..errors import ConfigError


def import_custom(modules):
    """Import each module name of ``modules`` (a list; None or [] imports nothing). The current
    directory is searched too, as ``python -m`` would."""
    if modules is None:
        return []
    if isinstance(modules, str) or not isinstance(modules, (list, tuple)):
        raise ConfigError(f"custom_imports must be a list of module names, got {modules!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.append(os.getcwd())
    imported = []
    for name in modules:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"custom_imports: {name!r} is not a module name")
        try:
            imported.append(importlib.import_module(name))
        except ModuleNotFoundError as err:
            if err.name is not None and name.startswith(err.name):  # the module itself, not one it imports
                raise ConfigError(f"custom_imports: no module named {name!r} (is it on PYTHONPATH?)") from None
            raise
    return imported
