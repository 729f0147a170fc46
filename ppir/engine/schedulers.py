"""Learning-rate schedules as pure functions of the iteration, so a resumed run needs no state.

Each schedule is ``f(iteration, base_lr, **options) -> lr`` with ``iteration`` counted from 0 (the
lr used for the first optimizer step is ``f(0, ...)``). Configs name one under
``train.lr_schedule``: ``{name: warmup_cosine, warmup_iters: 396, cosine_iters: 395604, eta_min: 1e-6}``.
"""
import inspect
import math

from ..errors import ConfigError


def constant(iteration, base_lr):
    return base_lr


def warmup_cosine(iteration, base_lr, warmup_iters, cosine_iters, eta_min=0.0):
    """MPRNet/MIRNet: linear warmup, then half a cosine from ``base_lr`` to ``eta_min``.

    Warmup gives ``base_lr * (i + 1) / warmup_iters`` (per iteration; the official code stepped
    per epoch: 1/3, 2/3, 3/3 of the base rate in epochs 1-3). The cosine starts at ``base_lr`` on
    the first iteration after warmup and reaches ``eta_min`` ``cosine_iters`` later; the
    official T_max. It may be longer than the run (official Denoising: T_max 117 epochs for an
    80-epoch run, so the rate ends near 5.5e-5, not 1e-6), and after it the rate stays at
    ``eta_min``.
    """
    if iteration < warmup_iters:
        return base_lr * (iteration + 1) / warmup_iters
    t = min(iteration - warmup_iters, cosine_iters)
    return eta_min + 0.5 * (base_lr - eta_min) * (1.0 + math.cos(math.pi * t / cosine_iters))


def cyclic_cosine(iteration, base_lr, periods, restart_weights, eta_mins):
    """MIRNetV2 (basicsr CosineAnnealingRestartCyclicLR): one cosine per period, each with its
    own floor ``eta_mins[k]`` and height ``restart_weights[k]``.

    In cycle k, counting ``t`` from the cycle's start, the rate is
    ``eta_min + w * (base_lr - eta_min) * (1 + cos(pi * t / period)) / 2``. A cycle includes its
    end point (iteration 92000 still belongs to cycle 1 of [92000, 208000]), as in the official
    code. Note that nothing forces ``eta_min < base_lr``: the official MIRNetV2 YAMLs pair
    ``lr 2e-4`` with a first floor of 3e-4, so the rate *rises* to 3e-4 over cycle 1.
    """
    start = 0
    for period, weight, eta_min in zip(periods, restart_weights, eta_mins):
        if iteration <= start + period:
            t = iteration - start
            return eta_min + weight * 0.5 * (base_lr - eta_min) * (1.0 + math.cos(math.pi * t / period))
        start += period
    return eta_mins[-1]


SCHEDULES = {f.__name__: f for f in (constant, warmup_cosine, cyclic_cosine)}


def build_lr_schedule(cfg, source="train.lr_schedule"):
    """``{'name': ..., **options}`` -> ``lr(iteration, base_lr)``; bad names or options are ConfigErrors."""
    cfg = dict(cfg or {"name": "constant"})
    name = cfg.pop("name", None)
    if name not in SCHEDULES:
        raise ConfigError(f"{source}: unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
    fn = SCHEDULES[name]
    params = list(inspect.signature(fn).parameters)[2:]
    unknown = sorted(set(cfg) - set(params))
    if unknown:
        raise ConfigError(f"{source}: {name} has no option {unknown[0]!r} (it takes {', '.join(params)})")
    try:
        inspect.signature(fn).bind(0, 1.0, **cfg)
    except TypeError as exc:
        raise ConfigError(f"{source}: {name}: {exc}") from None
    _check_lengths(name, cfg, source)
    return lambda iteration, base_lr: fn(iteration, base_lr, **cfg)


def _check_lengths(name, cfg, source):
    if name == "cyclic_cosine":
        lengths = {k: len(cfg[k]) for k in ("periods", "restart_weights", "eta_mins")}
        if len(set(lengths.values())) != 1:
            raise ConfigError(f"{source}: periods, restart_weights and eta_mins need equal lengths, got {lengths}")
        if any(p <= 0 for p in cfg["periods"]):
            raise ConfigError(f"{source}: periods must be positive, got {cfg['periods']}")
    if name == "warmup_cosine" and (cfg["warmup_iters"] < 0 or cfg["cosine_iters"] <= 0):
        raise ConfigError(f"{source}: warmup_iters must be >= 0 and cosine_iters > 0")
