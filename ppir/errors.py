"""User-facing errors: one line that says what is wrong and what to do about it.

Command-line entry points catch ``PpirError`` and print ``error: <message>`` without a traceback
(set ``PPIR_DEBUG=1`` to see it). Library callers get an exception they can catch by type.
"""


class PpirError(Exception):
    """An error caused by the user's input (file, config, weights), not by a bug in ppir."""


class ImageReadError(PpirError, ValueError):
    """A file that should be an image is missing, empty, truncated or not an image."""


class WeightsError(PpirError, ValueError):
    """A weight file is unreadable, unsafe, or does not match the network."""


class ConfigError(PpirError, ValueError):
    """A config file is missing, malformed, or names an unknown key."""


class DatasetError(PpirError, ValueError):
    """A dataset root is missing, empty, or holds unpaired or unreadable files."""


class BadDataError(DatasetError):
    """A dataset entry cannot be read (corrupt, truncated, not an image). The run stops with exit
    status 1, as for a batch where some inputs failed, unless ``skip_bad_files`` skips it."""


class PlaceError(PpirError):
    """A folder ppir must write to (output, run, export, cache) is a file, cannot be made, or is
    not writable. Checked before any work is done; command lines exit with status 2."""


class ImageWriteError(PpirError, OSError):
    """An output image could not be written (full disk, folder removed or made read-only)."""


def one_line(err):
    """An exception as one line: the first non-empty line of its message, after its type unless
    it is a ``PpirError`` (whose messages are written for the user). The one formatter for every
    place that reports an error in one line."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    if isinstance(err, PpirError):
        return text or type(err).__name__
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


# Exit statuses of every command line (README, "Exit status"): all done; some inputs failed (the
# rest were done); a usage, config or input error stopped the run (one line ``error: ...``);
# interrupted (Ctrl-C; SIGTERM gives 143, 128 + its number, see ppir/apps/interrupt.py).
EXIT_OK, EXIT_SOME_FAILED, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
