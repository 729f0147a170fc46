"""Config files: _base_ inheritance, -o overrides, schema checks with the file named in errors."""
import os

import pytest

from ppir.engine.config import dump_config, load_config
from ppir.errors import ConfigError


def write(folder, name, text):
    path = os.path.join(folder, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


@pytest.fixture
def configs(tmp_path):
    folder = str(tmp_path)
    write(folder, "_base_/net.yaml", "arch: {name: MPRNet, n_feat: 8, num_cab: 1}\nseed: 7\n")
    write(folder, "_base_/optim.yaml", "train:\n  optimizer: {name: Adam, lr: 2e-4}\n  batch_size: 4\n")
    return folder


def test_bases_merge_in_order_and_the_file_wins(configs):
    path = write(configs, "exp.yaml", "_base_: [_base_/net.yaml, _base_/optim.yaml]\ntrain: {batch_size: 8}\n")
    cfg = load_config(path)
    assert cfg["arch"] == {"name": "MPRNet", "n_feat": 8, "num_cab": 1}
    assert cfg["train"]["batch_size"] == 8  # the file's own value beats the base
    assert cfg["train"]["optimizer"]["lr"] == 2e-4 and isinstance(cfg["train"]["optimizer"]["lr"], float)
    assert cfg["train"]["optimizer"]["betas"] == [0.9, 0.999]  # schema default
    assert cfg["seed"] == 7 and cfg["name"] == "exp"


def test_single_base_path_relative_to_the_file(configs):
    write(configs, "sub/child.yaml", "_base_: ../_base_/net.yaml\narch: {n_feat: 16}\n")
    cfg = load_config(os.path.join(configs, "sub", "child.yaml"))
    assert cfg["arch"] == {"name": "MPRNet", "n_feat": 16, "num_cab": 1}


def test_delete_replaces_a_base_mapping(configs):
    path = write(configs, "mir.yaml", "_base_: _base_/net.yaml\narch: {_delete_: true, name: MIRNet}\n")
    assert load_config(path)["arch"] == {"name": "MIRNet"}


def test_unknown_key_names_the_file_and_suggests(configs):
    path = write(configs, "typo.yaml", "_base_: _base_/net.yaml\ntrain:\n  lr_shedule: {name: constant}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}: unknown key 'train.lr_shedule' (did you mean 'lr_schedule'?)"


def test_unknown_key_in_a_base_names_the_base(configs):
    base = write(configs, "_base_/bad.yaml", "checkpoint: {keep: 3}\n")
    path = write(configs, "uses_bad.yaml", "_base_: _base_/bad.yaml\n")
    with pytest.raises(ConfigError, match=f"^{base}: unknown key 'checkpoint.keep' \\(did you mean 'keep_last'"):
        load_config(path)


def test_wrong_types_are_reported_with_the_key(configs):
    path = write(configs, "types.yaml", "train: {batch_size: sixteen}\n")
    with pytest.raises(ConfigError, match=r"types.yaml: 'train.batch_size' must be an integer, got 'sixteen'"):
        load_config(path)
    path = write(configs, "bool.yaml", "log: {enable_visualdl: 1}\n")
    with pytest.raises(ConfigError, match=r"'log.enable_visualdl' must be true or false"):
        load_config(path)
    path = write(configs, "choice.yaml", "train: {optimizer: {name: SGD}}\n")
    with pytest.raises(ConfigError, match=r"'train.optimizer.name' must be one of Adam, AdamW"):
        load_config(path)


def test_eval_sets_are_checked_against_their_schema(configs):
    path = write(configs, "val.yaml", "val:\n  datasets:\n    a: {dataset: {name: X}, protocl: gopro}\n")
    with pytest.raises(ConfigError, match=r"unknown key 'val.datasets.a.protocl' \(did you mean 'protocol'\?\)"):
        load_config(path)


def test_overrides_set_nested_keys_list_items_and_free_mappings(configs):
    path = write(configs, "exp.yaml", "_base_: [_base_/net.yaml, _base_/optim.yaml]\n")
    cfg = load_config(path, ["train.optimizer.betas.1=0.99", "arch.width=3", "train.optimizer.lr=1e-3",
                             "val.datasets.extra.protocol=gopro", "name=run7"])  # fmt: skip
    assert cfg["train"]["optimizer"]["betas"] == [0.9, 0.99]
    assert cfg["arch"]["width"] == 3
    assert cfg["train"]["optimizer"]["lr"] == 1e-3
    assert cfg["val"]["datasets"]["extra"] == {"dataset": None, "protocol": "gopro", "max_images": None,
                                               "submission": None}  # fmt: skip
    assert cfg["name"] == "run7"


def test_null_override_drops_one_named_evaluation_set(configs):
    path = write(configs, "exp.yaml", "test:\n  datasets:\n    A: {protocol: gopro}\n    B: {protocol: gopro}\n")
    assert list(load_config(path, ["test.datasets.B=null"])["test"]["datasets"]) == ["A"]
    with pytest.raises(ConfigError, match=r"no 'test.datasets.C' to remove \(entries: A, B\)"):
        load_config(path, ["test.datasets.C=null"])


def test_override_values_are_yaml_never_code(configs):
    path = write(configs, "exp.yaml", "_base_: _base_/net.yaml\n")
    cfg = load_config(path, ["name=__import__('os').getcwd()", "arch.flag=[1, 2]"])
    assert cfg["name"] == "__import__('os').getcwd()"
    assert cfg["arch"]["flag"] == [1, 2]


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.optimizer.bettas=1", r"^-o train.optimizer.bettas=1: unknown key 'train.optimizer.bettas' \(did you mean 'betas'\?\)"),
        ("train.batch_size=abc", r"'train.batch_size' must be an integer, got 'abc'"),
        ("train.optimizer.betas.5=1", r"'train.optimizer.betas.5' is not an index of a 2-item list"),
        ("seed", r"an override looks like key.sub=value"),
        ("train.batch_size.x=1", r"'train.batch_size.x' goes inside a value that is not a mapping"),
        ("arch=[1]", r"'arch' must be a mapping"),
        ("train.batch_size=0", r"'train.batch_size' must be >= 1, got 0"),
        ("train.batch_size=-2", r"'train.batch_size' must be >= 1, got -2"),
        ("train.num_workers=-1", r"'train.num_workers' must be >= 0"),
        ("train.optimizer.betas=[a,b]", r"'train.optimizer.betas' must be a list of numbers"),
        ("train.optimizer.betas=[0.9]", r"'train.optimizer.betas' must have 2 items"),
        ("train.optimizer.betas=[0.9,2]", r"items of 'train.optimizer.betas' must be <= 1.0"),
        ("train.progressive.patch_sizes=[64,0]", r"items of 'train.progressive.patch_sizes' must be >= 1"),
        ("train.mixup.prob=1.5", r"'train.mixup.prob' must be <= 1.0"),
    ],
)
def test_bad_overrides(configs, override, message):
    path = write(configs, "exp.yaml", "_base_: _base_/net.yaml\n")
    with pytest.raises(ConfigError, match=message):
        load_config(path, [override])


def test_missing_files_and_cycles(configs):
    with pytest.raises(ConfigError, match=r"nope.yaml: config file not found"):
        load_config(os.path.join(configs, "nope.yaml"))
    path = write(configs, "orphan.yaml", "_base_: missing.yaml\n")
    with pytest.raises(ConfigError, match=r"orphan.yaml: _base_ file 'missing.yaml' not found"):
        load_config(path)
    write(configs, "a.yaml", "_base_: b.yaml\n")
    write(configs, "b.yaml", "_base_: a.yaml\n")
    with pytest.raises(ConfigError, match=r"_base_ cycle"):
        load_config(os.path.join(configs, "a.yaml"))
    path = write(configs, "broken.yaml", "train: {batch_size: [1, 2\n")
    with pytest.raises(ConfigError, match=r"broken.yaml: line \d+ invalid YAML"):
        load_config(path)


def test_dumped_config_loads_back_identically(configs, tmp_path):
    path = write(configs, "exp.yaml", "_base_: [_base_/net.yaml, _base_/optim.yaml]\n")
    cfg = load_config(path, ["train.optimizer.eps=1e-8"])
    out = str(tmp_path / "run" / "config.yaml")
    dump_config(cfg, out)
    assert load_config(out) == cfg
