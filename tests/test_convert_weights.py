"""tools/convert_weights.py: builds the architecture, loads strictly, writes a .pdparams."""
import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ppir.weights import read_state_dict

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "convert_weights.py"
FIXTURES = ROOT / "tests" / "fixtures"
MPRNET_PTH = FIXTURES / "mprnet_small.pth"
SMALL_OPTIONS = ["n_feat=16", "scale_unetfeats=8", "scale_orsnetfeats=8", "num_cab=2"]


def load_tool():
    spec = importlib.util.spec_from_file_location("convert_weights", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


convert_weights = load_tool()


def run_cli(*args, debug=False):
    env = {**os.environ, "PPIR_DEBUG": "1" if debug else "0"}
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)], capture_output=True, text=True, env=env)


def test_cli_converts_official_mprnet_weights(tmp_path):
    dst = tmp_path / "mprnet_small.pdparams"
    result = run_cli("--src", MPRNET_PTH, "--dst", dst, "--arch", "MPRNet", "--task", "Deblurring",
                     "--opt", *SMALL_OPTIONS[:2], "--opt", *SMALL_OPTIONS[2:])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {dst}: 226 tensors of MPRNet from {MPRNET_PTH}"
    official, converted = read_state_dict(MPRNET_PTH), read_state_dict(dst)
    assert sorted(converted) == sorted(official)
    for name, value in official.items():
        np.testing.assert_array_equal(converted[name], value)


def test_cli_error_is_one_line_and_exit_code_2(tmp_path):
    dst = tmp_path / "out.pdparams"
    result = run_cli("--src", MPRNET_PTH, "--dst", dst, "--arch", "MPRNet", "--task", "Deblurring")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if "Warning" not in line and "warnings.warn" not in line]
    assert len(lines) == 1 and lines[0].startswith(f"error: {MPRNET_PTH} does not match MPRNet: ")
    assert "Traceback" not in result.stderr and not dst.exists()


def test_cli_shows_the_traceback_under_ppir_debug(tmp_path):
    result = run_cli("--src", tmp_path / "absent.pth", "--dst", tmp_path / "out.pdparams", "--arch", "MPRNet",
                     debug=True)
    assert result.returncode != 0 and "Traceback" in result.stderr and "WeightsError" in result.stderr


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--arch", "MPRNett"], "error: unknown architecture 'MPRNett'. Did you mean 'MPRNet'?"),
        (["--arch", "MPRNet", "--opt", "n_feat"], "error: --opt 'n_feat' is not KEY=VALUE"),
        (["--arch", "MPRNet", "--opt", "widths=3"], "error: architecture MPRNet: unknown option(s) widths."),
        (["--arch", "MPRNet", "--opt", "n_feat=-3"], "error: cannot build MPRNet with {'name': 'MPRNet', 'n_feat': -3}: "),
    ],
)
def test_bad_arguments_are_one_line_errors(tmp_path, capsys, extra, message):
    code = convert_weights.main(["--src", str(MPRNET_PTH), "--dst", str(tmp_path / "o.pdparams"), *extra])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_options_are_python_literals_or_words():
    args = convert_weights.parse_args(
        ["--src", "a", "--dst", "b", "--arch", "MIRNetV2", "--task", "defocus_deblurring",
         "--opt", "n_feat=16", "chan_factor=1.5", "bias=False", "mode=bilinear"]
    )
    assert convert_weights.arch_config(args) == {
        "name": "MIRNetV2", "task": "defocus_deblurring", "n_feat": 16, "chan_factor": 1.5, "bias": False,
        "mode": "bilinear",
    }


def test_unwritable_destination_is_a_one_line_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = convert_weights.main(["--src", str(MPRNET_PTH), "--dst", str(blocker / "o.pdparams"), "--arch", "MPRNet",
                                 "--opt", *SMALL_OPTIONS])
    assert code == 2
    assert capsys.readouterr().err.startswith(f"error: {blocker / 'o.pdparams'}: cannot write (")


def test_key_option_picks_the_entry(tmp_path, capsys):
    """--key reaches load_weights: a file's EMA weights can be converted instead of the raw ones."""
    from ppir.weights import save_checkpoint

    official = read_state_dict(MPRNET_PTH)
    ema = {k: v * 0.5 for k, v in official.items()}
    source = tmp_path / "ckpt.pdckpt"
    save_checkpoint({"model": official, "ema": ema}, source)
    dst = tmp_path / "ema.pdparams"
    code = convert_weights.main(["--src", str(source), "--dst", str(dst), "--arch", "MPRNet", "--key", "ema",
                                 "--opt", *SMALL_OPTIONS])
    assert code == 0, capsys.readouterr().err
    np.testing.assert_array_equal(read_state_dict(dst)["tail.weight"], ema["tail.weight"])


@pytest.mark.parametrize(
    "fixture, module", [("mirnetv2_small", "mirnet_v2"), ("mirnetv2_small_defocus", "mirnet_v2"), ("mirnet_small", "mirnet")]
)
def test_other_architectures_convert(tmp_path, capsys, fixture, module):
    # Imported by name so the architecture is registered even before ppir/archs/__init__.py lists it.
    importlib.import_module(f"ppir.archs.{module}")
    config = json.loads((FIXTURES / f"{fixture}.json").read_text())
    options = [f"{key}={value}" for key, value in config["config"].items()]
    dst = tmp_path / f"{fixture}.pdparams"
    code = convert_weights.main(["--src", str(FIXTURES / f"{fixture}.pth"), "--dst", str(dst),
                                 "--arch", config["arch"], "--opt", *options])
    assert code == 0, capsys.readouterr().err
    official, converted = read_state_dict(FIXTURES / f"{fixture}.pth"), read_state_dict(dst)
    assert sorted(converted) == sorted(official)
    for name, value in official.items():
        np.testing.assert_array_equal(converted[name], value)
