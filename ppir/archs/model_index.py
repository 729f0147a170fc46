"""The model index: the released models of every registered network, read by the apps, the export
tool, ``--help`` and checked against docs/models.md by the tests.

Each family keeps its table next to its network, as the class attribute ``released_models``
(``{task: ReleasedModel}``); a network without released weights has none. Task names match
case-insensitively everywhere (configs, apps, command lines): ``match_name``.
"""
from dataclasses import dataclass, field
from typing import Optional

from ..errors import ConfigError
from ..registry import ARCHS


@dataclass(frozen=True)
class ReleasedModel:
    """One released model.

    ``arch``: its ``build_arch`` config. ``url``: where ppir downloads the weights from, or None
    when they sit behind links that cannot be fetched by URL; then ``weights_page`` says where they
    are published. ``filename``: the name the file gets in ppir's cache (or is published under).
    ``published``: (benchmark, 'PSNR / SSIM', provenance) rows as docs/models.md gives them.
    ``bytes_per_pixel``: peak memory of one CPU forward pass per input pixel, measured with
    ``benchmarks/measure_memory.py`` (documentation; the apps measure the network they build).
    ``enlarge``: the photo is enlarged by this factor (bicubic) before it is restored (RealSR v1
    models restore at the target size). ``views``: 2 for networks that take two stacked views.
    """

    task: str
    arch: dict
    url: Optional[str]
    filename: str
    published: tuple = ()
    bytes_per_pixel: Optional[int] = None
    weights_page: Optional[str] = None
    enlarge: int = 1
    views: int = 1
    notes: dict = field(default_factory=dict)


def match_name(value, choices, what):
    """The entry of ``choices`` equal to ``value`` ignoring case; else a ConfigError listing them."""
    for name in choices:
        if str(value).lower() == str(name).lower():
            return name
    raise ConfigError(f"unknown {what} {value!r}; choose one of {', '.join(choices) or '(none)'}")


def network_class(arch):
    """The registered class of ``arch`` (a name, a ``build_arch`` config or a class)."""
    if isinstance(arch, type):
        return arch
    name = arch.get("name") if isinstance(arch, dict) else arch
    return ARCHS.get(name)


def released_models(arch):
    """``{task: ReleasedModel}`` of a network (empty when it has no released weights)."""
    return dict(getattr(network_class(arch), "released_models", None) or {})


def released_model(arch, task):
    """The ``ReleasedModel`` of ``task`` (any case) for ``arch``; a ConfigError lists the tasks."""
    cls = network_class(arch)
    table = released_models(cls)
    if not table:
        raise ConfigError(f"ppir knows no released weights for {cls.__name__}; give a weights file (weight_path)")
    return table[match_name(task, table, f"{cls.__name__} task")]


def config_from_weights(arch, state):
    """Constructor options of ``arch`` read from a state dict's shapes ({} if it cannot say)."""
    reader = getattr(network_class(arch), "config_from_weights", None)
    return dict(reader(state) or {}) if reader is not None else {}


def index():
    """Every released model of every registered network: ``{arch name: {task: ReleasedModel}}``."""
    return {name: released_models(name) for name in ARCHS.names() if released_models(name)}
