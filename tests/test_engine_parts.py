"""Trainer pieces: checkpoint rotation, optimizer state across processes, EMA, full-image padding,
progressive learning, validation outputs (best weights, samples, VisualDL), CPU AMP."""
import json
import os

import numpy as np
import paddle
import pytest

from ppir.engine.checkpoint import CheckpointFolder, optimizer_state_from_portable, optimizer_state_to_portable
from ppir.engine.config import load_config
from ppir.engine.ema import EMA
from ppir.engine.evaluation import restore
from ppir.engine.runner import train
from ppir.engine.trainer import Trainer
from ppir.errors import ConfigError
from ppir.utils.padding import pad_to_multiple
from engine_support import SYNTHETIC_VAL, max_weight_difference, tiny_config, write_config


def test_checkpoint_folder_keeps_the_last_k_and_ignores_partial_files(tmp_path):
    folder = CheckpointFolder(str(tmp_path), keep_last=2)
    for iteration in (5, 10, 15):
        folder.save({"iteration": iteration, "model": {"w": np.ones(2)}}, iteration)
    (tmp_path / ".iter_000000020.pdckpt.x1.tmp").write_bytes(b"half a file")  # a write killed mid-way
    assert [os.path.basename(p) for p in folder.all()] == ["iter_000000010.pdckpt", "iter_000000015.pdckpt"]
    assert folder.latest().endswith("iter_000000015.pdckpt")


def small_net():
    return paddle.nn.Sequential(paddle.nn.Conv2D(3, 4, 3), paddle.nn.PReLU(), paddle.nn.Conv2D(4, 3, 1))


def one_adam_step(net, opt, seed):
    paddle.seed(seed)
    net(paddle.rand([2, 3, 8, 8])).square().mean().backward()
    opt.step()
    opt.clear_grad()


def test_optimizer_state_moves_between_networks_with_different_generated_names():
    paddle.seed(0)
    first = small_net()
    paddle.seed(0)
    second = small_net()  # built later: other generated parameter names ("conv2d_2.w_0", ...)
    assert [p.name for p in first.parameters()] != [p.name for p in second.parameters()]
    opt1 = paddle.optimizer.Adam(1e-2, parameters=first.parameters())
    opt2 = paddle.optimizer.Adam(1e-2, parameters=second.parameters())
    one_adam_step(first, opt1, seed=1)
    portable = optimizer_state_to_portable(opt1.state_dict(), first)
    assert "0.weight::_moment1_0" in portable
    second.set_state_dict(first.state_dict())
    opt2.set_state_dict(optimizer_state_from_portable(portable, second))
    one_adam_step(first, opt1, seed=2)
    one_adam_step(second, opt2, seed=2)
    for a, b in zip(first.parameters(), second.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ConfigError, match="names parameter '9.weight'"):
        optimizer_state_from_portable({"9.weight::_moment1_0": np.zeros(1)}, second)


def test_ema_averages_parameters_and_swaps_them_in_temporarily():
    paddle.seed(0)
    net = small_net()
    start = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    ema = EMA(net, decay=0.75)
    with paddle.no_grad():
        for p in net.parameters():
            p.set_value(p + 1.0)
    ema.update()
    trained = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    with ema.applied():
        for k, v in net.state_dict().items():
            np.testing.assert_allclose(v.numpy(), start[k] + 0.25, rtol=1e-6)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), trained[k])


def test_full_images_are_reflect_padded_bottom_right_and_cropped_back():
    x = paddle.to_tensor(np.arange(2 * 3 * 5 * 6, dtype=np.float32).reshape(2, 3, 5, 6))
    padded, size = pad_to_multiple(x.numpy(), 4)  # the padding evaluation shares with the predictors
    assert padded.shape == (2, 3, 8, 8) and size == (5, 6)
    np.testing.assert_array_equal(padded, np.pad(x.numpy(), ((0, 0), (0, 0), (0, 3), (0, 2)), mode="reflect"))

    class Shifted(paddle.nn.Layer):  # meets the network contract (ppir/archs/contract.py)
        in_channels = out_channels = 3
        size_multiple = 8
        scale = 1

        def forward(self, img):
            assert img.shape[-1] % 8 == 0 and img.shape[-2] % 8 == 0
            return [img * 0.5 + 0.25, img]

    out = restore(Shifted(), paddle.rand([1, 3, 13, 21]))
    assert out.shape == [1, 3, 13, 21] and float(out.max()) <= 0.75


def test_progressive_learning_switches_patch_and_batch_size_at_the_boundaries(tmp_path):
    cfg = tiny_config()
    cfg["train"].update(
        batch_size=4, total_iters=6,
        progressive={"iters": [2, 3, 1], "patch_sizes": [8, 16, 24], "batch_sizes": [4, 2, 2]},
    )  # fmt: skip
    cfg["train"]["dataset"]["patch_size"] = 24  # the loader always crops the largest patch
    cfg["checkpoint"]["interval"] = 0
    trainer = Trainer(load_config(write_config(tmp_path, cfg)), str(tmp_path / "run"))
    seen = []
    trainer.net.register_forward_pre_hook(lambda layer, inputs: seen.append(tuple(inputs[0].shape)))
    trainer.train()
    shapes = [s for s in seen if s[-1] != 32]  # drop the final validation (32x32 center crops)
    assert shapes == [(4, 3, 8, 8)] * 2 + [(2, 3, 16, 16)] * 3 + [(2, 3, 24, 24)]


def test_progressive_batch_sizes_are_checked(tmp_path):
    cfg = tiny_config()
    cfg["train"]["progressive"] = {"iters": [1], "patch_sizes": [8], "batch_sizes": [8]}
    with pytest.raises(ConfigError, match=r"batch_sizes \[8\] exceed train.batch_size 2"):
        Trainer(load_config(write_config(tmp_path, cfg)), str(tmp_path / "run"))


def test_validation_keeps_best_weights_samples_and_visualdl_logs(tmp_path):
    cfg = tiny_config()
    cfg["train"]["total_iters"] = 4
    cfg["val"] = {
        "interval": 2, "save_images": 1, "best_metric": "b/PSNR", "score_input": True,
        "datasets": {"a": {"dataset": dict(SYNTHETIC_VAL), "protocol": "training_psnr"},
                     "b": {"dataset": dict(SYNTHETIC_VAL, sigma=10), "protocol": "gopro", "max_images": 1}},
    }  # fmt: skip
    cfg["log"]["enable_visualdl"] = True
    trainer = train(load_config(write_config(tmp_path, cfg), [f"output_dir={tmp_path}"]))
    run = tmp_path / "tiny"
    assert set(trainer.last_scores) == {"a", "b"} and set(trainer.last_scores["b"]) == {"PSNR", "SSIM"}
    best = json.loads((run / "weights" / "best.json").read_text())
    assert best["metric"] == "b/PSNR" and best["iteration"] in (2, 4)
    assert best["value"] == max(trainer.best["value"], trainer.last_scores["b"]["PSNR"])
    assert (run / "weights" / "best.pdparams").exists() and (run / "weights" / "final.pdparams").exists()
    for iteration in (2, 4):
        folder = run / "samples" / f"iter_{iteration:09d}"
        assert [len(os.listdir(folder / s)) for s in ("a", "b")] == [1, 1]
    assert any(name.startswith("vdlrecords") for name in os.listdir(run / "visualdl"))
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["input"]) == set(metrics["last"]) == {"a", "b"}
    assert metrics["last"] == trainer.last_scores and metrics["best"] == trainer.best
    assert load_config(str(run / "config.yaml")) == trainer.cfg  # the resolved config, reloadable


def test_best_metric_must_name_a_validation_score(tmp_path):
    cfg = tiny_config()
    cfg["train"]["total_iters"] = 1
    cfg["val"]["best_metric"] = "photos/SSIM"
    with pytest.raises(ConfigError, match=r"val.best_metric 'photos/SSIM' is not among .*photos/PSNR"):
        train(load_config(write_config(tmp_path, cfg), [f"output_dir={tmp_path}"]))
    assert not list(tmp_path.rglob("*.pdparams")) and not list(tmp_path.rglob("*.pdckpt"))  # refused before training


def test_amp_on_cpu_runs_the_scaler_path_and_changes_nothing(tmp_path):
    path = write_config(tmp_path, tiny_config())
    plain = train(load_config(path, [f"output_dir={tmp_path}/fp32", "train.total_iters=2"]))
    amp = train(load_config(path, [f"output_dir={tmp_path}/amp", "train.total_iters=2", "train.amp=true"]))
    assert amp.amp.scaler is not None  # GradScaler is disabled by Paddle on CPU; auto_cast keeps float32
    difference = max_weight_difference(
        os.path.join(plain.run_dir, "weights", "final.pdparams"), os.path.join(amp.run_dir, "weights", "final.pdparams")
    )
    assert difference == 0.0
