"""Building the parts a run needs from its config, with mistakes reported as one-line ConfigErrors
that name the config section (``arch: unknown architecture 'MPRnet'. Did you mean 'MPRNet'?``)."""
import paddle

from ..archs import build_arch
from ..data import build_dataset
from ..errors import ConfigError, PpirError
from ..losses import build_loss
from .schema import DATASET_FIELDS


def built(section, builder, cfg):
    """``builder(cfg)`` with the user's mistakes (``PpirError``: unknown names, bad options, a
    constructor refusing its arguments, a missing dataset) prefixed by ``section``, keeping their
    type. Anything else raised by a constructor is a bug in it and surfaces as itself, with its
    traceback."""
    if not cfg:
        raise ConfigError(f"{section} is missing from the config")
    try:
        return builder(cfg)
    except PpirError as exc:
        raise _prefixed(exc, section) from None


def _prefixed(exc, section):
    try:
        return type(exc)(f"{section}: {exc}")
    except TypeError:  # an error class with another signature: say it as a ConfigError
        return ConfigError(f"{section}: {exc}")


def network(cfg):
    return built("arch", build_arch, cfg["arch"])


def dataset(section, dataset_cfg):
    own = {k: v for k, v in (dataset_cfg or {}).items() if k not in DATASET_FIELDS}
    return built(section, build_dataset, own if dataset_cfg else dataset_cfg)


def skip_bad_files(dataset_cfg):
    """The dataset's ``skip_bad_files`` option (a key ppir reads itself, see schema.DATASET_FIELDS)."""
    return bool((dataset_cfg or {}).get("skip_bad_files", False))


def training_set(cfg):
    return dataset("train.dataset", cfg["train"]["dataset"])


def loss(cfg):
    return built("train.loss", build_loss, cfg["train"]["loss"])


def optimizer(cfg, parameters):
    """Adam (L2 weight decay added to the gradient, as torch.optim.Adam) or AdamW (decoupled)."""
    opt = cfg["train"]["optimizer"]
    betas = opt["betas"]  # two numbers in [0, 1]: checked with the config (schema.py)
    clip = cfg["train"]["grad_clip_norm"]
    common = {
        "learning_rate": opt["lr"],
        "beta1": float(betas[0]),
        "beta2": float(betas[1]),
        "epsilon": opt["eps"],
        "parameters": parameters,
        "grad_clip": paddle.nn.ClipGradByGlobalNorm(clip) if clip else None,
    }
    if opt["name"] == "AdamW":
        return paddle.optimizer.AdamW(weight_decay=opt["weight_decay"], **common)
    decay = paddle.regularizer.L2Decay(opt["weight_decay"]) if opt["weight_decay"] else None
    return paddle.optimizer.Adam(weight_decay=decay, **common)
