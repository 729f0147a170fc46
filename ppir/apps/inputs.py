"""Turning what a user passes (a file, a folder, a glob, a list of these; or left/right pairs for
dual-pixel defocus) into a sorted list of jobs, each with the output file it will write.

Folders are walked recursively and keep only files with an image suffix; an image found in a
sub-folder keeps that sub-folder (relative to the folder given) in its output path. An explicit
file is always tried (if it is not an image, reading it says so). Anything that yields nothing (an
empty folder, a glob that matches nothing) becomes a failure of its own, so the batch reports it.
Output names are ``<sub-folder>/<stem>.png``; when two inputs share one, the later ones get ``_2``,
``_3``... (``renamed`` lists them, so a command line can show the change).
"""
import glob
import os

from ..utils.image_io import is_image_file
from ..utils.sorting import natural_key

GLOB_CHARS = "*?["
PAIR_FOLDERS = ("inputL", "inputR")  # the DPDD dataset layout


def images_in(folder):
    names = (os.path.join(folder, n) for n in os.listdir(folder))
    return sorted((p for p in names if os.path.isfile(p) and is_image_file(p)), key=natural_key)


class FoundInFolder(str):
    """A path found by walking a folder, with ``subfolder``: where it lies relative to that folder
    ('' at the top), which its output keeps."""

    def __new__(cls, path, subfolder):
        item = super().__new__(cls, path)
        item.subfolder = subfolder
        return item

    def __reduce__(self):  # pickled (processes exchange results) with its sub-folder
        return FoundInFolder, (str(self), self.subfolder)


def images_under(folder):
    """Every image file below ``folder`` (recursively), natural order of the relative paths; each a
    ``FoundInFolder``."""
    found = []
    for parent, dirs, files in os.walk(folder):
        dirs.sort(key=natural_key)
        sub = os.path.relpath(parent, folder)
        sub = "" if sub == os.curdir else sub
        found += [FoundInFolder(os.path.join(parent, n), sub) for n in files if is_image_file(n)]
    return sorted(found, key=lambda p: natural_key(os.path.join(p.subfolder, os.path.basename(p))))


def not_a_source(source):
    """The failure line for something in a list of inputs that is no path (None, a number, an
    array), or None when ``source`` is a path."""
    if isinstance(source, (str, os.PathLike)):
        return None
    if hasattr(source, "shape") and hasattr(source, "dtype"):
        what = f"an array of shape {tuple(source.shape)}"
        hint = "; restore an array on its own: run(array)"
    else:
        what, hint = repr(source)[:60], ""
    return f"{what} is not a file, folder or pattern{hint}"


def expand(source):
    """(paths, failures) for one str/PathLike ``source``."""
    problem = not_a_source(source)
    if problem:
        return [], [(source, problem)]
    source = os.fspath(source)
    if os.path.isdir(source):
        found = images_under(source)
        return (found, []) if found else ([], [(source, f"{source}: folder holds no images")])
    if not os.path.exists(source) and any(c in source for c in GLOB_CHARS):
        found = sorted((p for p in glob.glob(source) if os.path.isfile(p)), key=natural_key)
        return (found, []) if found else ([], [(source, f"{source}: pattern matches no files")])
    return [source], []  # a file, or a missing path that reading will report


def expand_all(sources):
    """(paths, failures) for a source or a list/tuple of sources."""
    if not isinstance(sources, (list, tuple)):
        sources = [sources]
    paths, failures = [], []
    for source in sources:
        found, failed = expand(source)
        paths += found
        failures += failed
    return paths, failures


def expand_pairs(sources):
    """(list of (left, right) path pairs, failures) for dual-view inputs.

    A source is a (left, right) tuple of files or of folders (matched by file name), or a folder
    holding ``inputL/`` and ``inputR/``; a list of such sources is also accepted.
    """
    if _is_pair(sources) or not isinstance(sources, (list, tuple)):
        sources = [sources]
    pairs, failures = [], []
    for source in sources:
        if not _is_pair(source) and not_a_source(source):
            failures.append((source, not_a_source(source)))
            continue
        if not _is_pair(source):
            folders = [os.path.join(os.fspath(source), sub) for sub in PAIR_FOLDERS]
            if not all(os.path.isdir(f) for f in folders):
                failures.append((source, f"{os.fspath(source)}: expected a (left, right) pair or a folder with "
                                         f"{' and '.join(PAIR_FOLDERS)}/"))
                continue
            source = tuple(folders)
        found, failed = _pair_up(*(os.fspath(s) for s in source))
        pairs += found
        failures += failed
    return pairs, failures


def _is_pair(value):
    return isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, (str, os.PathLike)) for v in value)


def _pair_up(left, right):
    if not (os.path.isdir(left) and os.path.isdir(right)):
        return [(left, right)], []  # two files (reading reports missing ones)
    rights = {os.path.basename(p): p for p in images_in(right)}
    pairs, failures = [], []
    for path in images_in(left):
        name = os.path.basename(path)
        if name in rights:
            pairs.append((path, rights.pop(name)))
        else:
            failures.append((path, f"{path}: no right view named {name} in {right}"))
    failures += [(p, f"{p}: no left view named {os.path.basename(p)} in {left}") for p in rights.values()]
    if not pairs and not failures:
        failures.append(((left, right), f"{left}: folder holds no images"))
    return pairs, failures


def output_names(items):
    """``<stem>.png`` per item (a path, or a pair named after its left view), under the item's
    sub-folder when it was found in one, made unique (case-insensitively, for case-insensitive
    file systems)."""
    used, names = set(), []
    for item in items:
        path = item[0] if isinstance(item, tuple) else item
        stem = os.path.splitext(os.path.basename(os.fspath(path)))[0]
        sub = getattr(path, "subfolder", "")
        name, count = os.path.join(sub, f"{stem}.png"), 1
        while name.lower() in used:
            count += 1
            name = os.path.join(sub, f"{stem}_{count}.png")
        used.add(name.lower())
        names.append(name)
    return names


def renamed(jobs):
    """The (input, output) jobs whose output is not named ``<stem>.png`` after the input (a clash)."""
    changed = []
    for source, output in jobs:
        path = source[0] if isinstance(source, tuple) else source
        stem = os.path.splitext(os.path.basename(os.fspath(path)))[0]
        if os.path.basename(output) != f"{stem}.png":
            changed.append((source, output))
    return changed
