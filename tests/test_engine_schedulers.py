"""Learning-rate schedules: the official MPRNet and MIRNetV2 curves, per iteration."""
import math

import pytest

from ppir.engine.config import load_config
from ppir.engine.schedulers import build_lr_schedule
from ppir.errors import ConfigError

MIRNETV2_300K = {"name": "cyclic_cosine", "periods": [92000, 208000], "restart_weights": [1, 1],
                 "eta_mins": [3e-4, 1e-6]}  # fmt: skip


def test_mirnetv2_cyclic_schedule_reproduces_the_official_lr_quirk():
    lr = build_lr_schedule(MIRNETV2_300K)
    # Values of the official scheduler with lr 2e-4 (the rate rises to the cycle-1 floor 3e-4).
    expected = {0: 2e-4, 46000: 2.5e-4, 92000: 3e-4, 92001: 2e-4, 196000: 1.005e-4, 299999: 1e-6, 300000: 1e-6}
    for iteration, value in expected.items():
        assert lr(iteration, 2e-4) == pytest.approx(value, rel=1e-6, abs=1e-11), iteration


@pytest.mark.parametrize("config, scale", [
    ("mirnetv2_real_denoising", 1), ("mirnetv2_enhancement_fivek", 1), ("mirnetv2_defocus", 1),
    ("mirnetv2_enhancement_lol", 0.5), ("mirnetv2_sr_x2", 0.5), ("mirnetv2_sr_x3", 0.5), ("mirnetv2_sr_x4", 0.5),
])
def test_shipped_mirnetv2_configs_keep_the_official_schedule(config, scale):
    """The experiment files, not a copy of their values: the quirk and the progressive stages
    of the official YAMLs (300k runs, and the 150k runs at half the iterations)."""
    cfg = load_config(f"configs/{config}.yaml")
    train = cfg["train"]
    lr = build_lr_schedule(train["lr_schedule"])
    first = int(92000 * scale)  # end of the first cycle; the restart is the iteration after it
    expected = {0: 2e-4, first // 2: 2.5e-4, first: 3e-4, first + 1: 2e-4,
                first + int(104000 * scale): 1.005e-4, int(300000 * scale) - 1: 1e-6}
    for iteration, value in expected.items():
        assert lr(iteration, train["optimizer"]["lr"]) == pytest.approx(value, rel=1e-6, abs=1e-11), iteration
    assert train["total_iters"] == 300000 * scale
    assert train["progressive"] == {
        "iters": [int(i * scale) for i in (92000, 64000, 48000, 36000, 36000, 24000)],
        "patch_sizes": [128, 160, 192, 256, 320, 384],
        "batch_sizes": [64, 40, 32, 16, 8, 8],
    }
    assert train["grad_clip_norm"] == 0.01 and train["loss"] == {"name": "L1Loss"}


def test_warmup_then_cosine_per_iteration():
    lr = build_lr_schedule({"name": "warmup_cosine", "warmup_iters": 3, "cosine_iters": 10, "eta_min": 1e-6})
    assert [lr(i, 2e-4) for i in range(3)] == pytest.approx([2e-4 / 3, 4e-4 / 3, 2e-4])
    assert lr(3, 2e-4) == pytest.approx(2e-4)  # the cosine starts at the base rate
    assert lr(8, 2e-4) == pytest.approx(1e-6 + 0.5 * (2e-4 - 1e-6))  # half way
    assert lr(13, 2e-4) == pytest.approx(1e-6) and lr(50, 2e-4) == pytest.approx(1e-6)
    values = [lr(i, 2e-4) for i in range(3, 14)]
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_denoising_period_longer_than_the_run_ends_above_eta_min():
    # Official Denoising: 80 epochs with T_max 117 epochs; in epoch 80 the cosine is at 76/117.
    n = 100  # iterations per epoch
    lr = build_lr_schedule({"name": "warmup_cosine", "warmup_iters": 3 * n, "cosine_iters": 117 * n, "eta_min": 1e-6})
    assert lr(3 * n + 76 * n, 2e-4) == pytest.approx(5.5447e-5, rel=1e-3)
    assert lr(80 * n - 1, 2e-4) > 5e-5


def test_constant_and_pure_functions():
    lr = build_lr_schedule({"name": "constant"})
    assert lr(0, 1e-3) == lr(10**6, 1e-3) == 1e-3
    cyclic = build_lr_schedule(MIRNETV2_300K)
    assert cyclic(123456, 2e-4) == cyclic(123456, 2e-4)  # no hidden state: resume needs none
    assert math.isclose(build_lr_schedule(None)(5, 0.1), 0.1)


@pytest.mark.parametrize(
    "cfg, message",
    [
        ({"name": "cosine"}, r"unknown schedule 'cosine'; choose one of constant, warmup_cosine, cyclic_cosine"),
        ({"name": "warmup_cosine", "warmup_iters": 3, "cosine_iter": 5}, r"has no option 'cosine_iter'"),
        ({"name": "warmup_cosine", "warmup_iters": 3}, r"missing a required argument: 'cosine_iters'"),
        ({"name": "cyclic_cosine", "periods": [1, 2], "restart_weights": [1], "eta_mins": [0, 0]}, r"equal lengths"),
    ],
)
def test_bad_schedule_configs(cfg, message):
    with pytest.raises(ConfigError, match=message):
        build_lr_schedule(cfg)
