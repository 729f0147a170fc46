"""What a network must provide to be trained, evaluated, restored, tiled and exported by ppir.

Every registered architecture exposes, as class or instance attributes:

* ``in_channels``: channels of the NCHW float32 input in [0, 1] (3 for RGB, 6 for two stacked
  RGB views);
* ``out_channels``: channels of the restored image;
* ``size_multiple``: H and W of the input must be multiples of it (the apps pad, then crop back);
* ``scale``: output size / input size (1 for restoration, the factor of a network that upsamples).

Its ``forward(x)`` returns the restored image, or a list (tuple) whose first item is it (MPRNet
returns ``[final, stage2, stage1]``). Optional, on the class: ``config_from_weights(state)`` (a
static method: constructor options read from the shapes of a ``{name: array}`` state dict, so
weights trained with other widths load without a config) and ``released_models`` (a
``{task: ReleasedModel}`` table, see ``ppir.archs.model_index``).
"""
from collections import namedtuple

from ..errors import PpirError

ATTRIBUTES = ("in_channels", "out_channels", "size_multiple", "scale")

Contract = namedtuple("Contract", ATTRIBUTES)


class ContractError(PpirError, TypeError):
    """A network does not provide what the apps need (names the missing attribute)."""


def contract_of(net):
    """The ``Contract`` of a network (instance or class); a one-line ``ContractError`` names the
    attributes that are missing or not positive integers."""
    name = net.__name__ if isinstance(net, type) else type(net).__name__
    values, problems = {}, []
    for attribute in ATTRIBUTES:
        value = getattr(net, attribute, None)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(attribute if value is None else f"{attribute} (got {value!r})")
        values[attribute] = value
    if problems:
        raise ContractError(
            f"network {name} does not meet ppir's network contract: it needs the attribute(s) "
            f"{', '.join(problems)} as positive integers (see docs/design.md, 'The network contract')")
    return Contract(**values)


def final_image(out):
    """The restored image of a forward pass: the output itself, or the first item of a list."""
    return out[0] if isinstance(out, (list, tuple)) else out
