"""Reading a network's configuration from the keys and shapes of a state dict (``{name: array}``
with the official key names), for each network's ``config_from_weights``."""


def numbered_children(state, prefix):
    """How many numbered sub-modules ``prefix0.``, ``prefix1.``, ... a state dict holds."""
    return len({key[len(prefix):].split(".")[0] for key in state if key.startswith(prefix)})


def has_bias(state):
    return any(key.endswith(".bias") for key in state)


def shapes(state, *keys):
    """The shapes of ``keys``, or None when one is missing or not an array (not this network)."""
    try:
        return [tuple(state[key].shape) for key in keys]
    except (KeyError, AttributeError):
        return None
