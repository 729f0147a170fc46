"""Conventions every part follows: one exit-status convention for the command lines, one one-line
error formatter, and a ConfigError only for the user's mistakes (a bug in a network's
constructor surfaces as itself)."""
import signal

import pytest
from paddle import nn

from ppir.apps import cli
from ppir.apps.interrupt import Interrupted
from ppir.engine import builders
from ppir.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, ConfigError, DatasetError, WeightsError, one_line
from ppir.registry import ARCHS


@ARCHS.register()
class NetWithABug(nn.Layer):
    def __init__(self, width=4):
        super().__init__()
        self.width = width / 0  # a bug, not a config mistake


def test_exit_statuses_of_the_app_command_lines(capsys):
    def interrupted():
        raise Interrupted(signal.SIGINT)  # what Ctrl-C raises while a command line runs

    def refused():
        raise WeightsError("w.pth: truncated")

    assert (EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED) == (0, 2, 130)
    assert cli.main(lambda: EXIT_OK) == 0
    assert cli.main(refused) == 2 and capsys.readouterr().err == "error: w.pth: truncated\n"
    assert cli.main(interrupted) == 130


def test_one_line_keeps_the_first_line_and_names_foreign_types():
    assert one_line(ValueError("bad\nmore")) == "ValueError: bad"
    assert one_line(DatasetError("\n  data/x.png: not an image\n")) == "data/x.png: not an image"
    assert one_line(KeyError()) == "KeyError"


def test_only_user_mistakes_become_config_errors():
    with pytest.raises(ConfigError, match="arch: MIRNet supports stride=2 only"):
        builders.network({"arch": {"name": "MIRNet", "stride": 3}})
    with pytest.raises(ConfigError, match="arch: architecture NetWithABug: unknown option"):
        builders.network({"arch": {"name": "NetWithABug", "depth": 3}})
    with pytest.raises(ZeroDivisionError):  # the constructor's own bug, with its own traceback
        builders.network({"arch": {"name": "NetWithABug"}})
