"""Never write a non-finite image: a backend output holding NaN or Inf (damaged weights that
slipped through, an fp16 overflow) is an error for that image, not a black PNG."""
import numpy as np

from ..errors import PpirError


class NonFiniteOutput(PpirError):
    """The network gave NaN or infinite values."""


def check_finite(out, what="the network", outcome="nothing written"):
    """``out`` unchanged, or ``NonFiniteOutput`` saying how much of it is NaN/Inf."""
    finite = np.isfinite(out)
    if finite.all():
        return out
    nan, inf = int(np.isnan(out).sum()), int(np.isinf(out).sum())
    kinds = " and ".join(f"{count} {kind}" for count, kind in ((nan, "NaN"), (inf, "Inf")) if count)
    raise NonFiniteOutput(
        f"the output of {what} holds {kinds} value(s) of {out.size}; {outcome} "
        "(are the weights damaged, or is fp16 overflowing?)"
    )
