"""Writing a file so that readers see the old file or the whole new one, never a part: the bytes
go to a temporary file beside the target, are flushed and fsynced, then renamed over it; a crash
or an interruption mid-write leaves the previous file intact and no temporary file behind.
"""
import json
import os
import tempfile


def atomic_write(path, data):
    """Replace ``path`` with ``data`` (bytes); returns the path."""
    path = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _fsync_folder(folder)
    return path


def write_text_atomic(path, text):
    """``atomic_write`` for text (UTF-8, newlines as given)."""
    return atomic_write(path, text.encode("utf-8"))


def write_json_atomic(path, data):
    return write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def _fsync_folder(folder):
    """Make the rename itself durable (POSIX; folders cannot be opened this way on Windows)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
