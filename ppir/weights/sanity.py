"""What no network can use, refused when a state dict is read: tensors with an empty shape
(a dimension of 0) and tensors holding NaN or infinite values, which would be restored into black
or garbage images without any other sign."""
import numpy as np

from ..errors import WeightsError

SHOWN = 4


def check_tensors(state, source):
    """Raise ``WeightsError`` naming the empty and the non-finite tensors of ``state``."""
    empty = [f"{name} {list(value.shape)}" for name, value in state.items() if value.size == 0]
    if empty:
        raise WeightsError(f"{source}: {len(empty)} tensor(s) with an empty shape: {_shown(empty)}")
    bad = []
    for name, value in state.items():
        if value.dtype.kind not in "fc" or np.isfinite(value).all():
            continue
        kinds = [kind for kind, present in (("NaN", np.isnan(value).any()), ("Inf", np.isinf(value).any())) if present]
        bad.append(f"{name} ({' and '.join(kinds)})")
    if bad:
        raise WeightsError(
            f"{source}: {len(bad)} tensor(s) hold NaN or infinite values: {_shown(bad)}; "
            "the file is damaged or comes from a run that diverged"
        )
    return state


def _shown(items):
    more = f", ... {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more
