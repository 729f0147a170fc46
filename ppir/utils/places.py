"""Folders ppir writes to, checked before any work is done: an output folder that is a file, that
cannot be made or is not writable is one line (``PlaceError``) at the start, not a traceback after
the compute is spent. Writability is tried for real (a temporary file), which also holds for root
and for read-only file systems, where permission bits say nothing."""
import os
import tempfile

from ..errors import PlaceError


def check_writable_folder(path, what="output folder"):
    """Raise ``PlaceError`` unless ``path`` is a writable folder or could be made as one (nothing
    is created). Returns ``path``."""
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise PlaceError(f"{path}: {what} is a file, not a folder")
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        parent = os.path.dirname(existing)
        if parent == existing:
            break
        existing = parent
    if not os.path.isdir(existing):
        raise PlaceError(f"{path}: {what} cannot be made: {existing} is a file, not a folder")
    reason = _cannot_write_in(existing)
    if reason:
        where = "is not writable" if existing == os.path.abspath(path) else f"cannot be made in {existing}"
        raise PlaceError(f"{path}: {what} {where} ({reason})")
    return path


def make_writable_folder(path, what="output folder"):
    """``check_writable_folder``, then create it; returns ``path``."""
    check_writable_folder(path, what)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise PlaceError(f"{path}: {what} cannot be made ({exc.strerror or exc})") from None
    return path


def _cannot_write_in(folder):
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".ppir-write-check-"):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)
