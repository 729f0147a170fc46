"""Finding the images of a dataset and pairing them across folders by name.

Pairs are matched by file-name stem (``0001.png`` in ``input/`` goes with ``0001.jpg`` in
``target/``), never by position in a sorted listing: one missing or extra file must be an error,
not a silent shift of every later pair. Lists come back in natural order (``2`` before ``10``),
which is also the order the official scripts' ``natsorted`` gives, so 1-based label files such as
DPDD's ``indoor_labels.npy`` index the same images.
"""
import os
import re

from ..errors import DatasetError
from ..utils.image_io import IMAGE_EXTENSIONS, is_image_file
from ..utils.sorting import natural_key

PREVIEW_COUNT = 5


def preview(names, count=PREVIEW_COUNT):
    """'a, b, c' or 'a, b, c, ... (+7 more)': enough names to find the problem, on one line."""
    names = list(names)
    shown = ", ".join(names[:count])
    return shown if len(names) <= count else f"{shown}, ... (+{len(names) - count} more)"


def require_dir(path, what="dataset folder"):
    if not os.path.isdir(path):
        reason = "is a file, not a folder" if os.path.exists(path) else "not found"
        raise DatasetError(f"{path}: {what} {reason}")
    return path


def list_images(folder, key_pattern=None):
    """``{key: path}`` for the images directly inside ``folder``.

    The key is the file stem, or the first group of ``key_pattern`` (a regex matched against the
    whole stem) when given; files whose stem does not match the pattern are left out, which lets
    a pattern also select files. Raises ``DatasetError`` for a missing folder, for a folder with
    no (matching) images, and for two files with the same key (``a.png`` and ``a.jpg``).
    """
    require_dir(folder)
    pattern = re.compile(key_pattern) if key_pattern else None
    found = {}
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if not is_image_file(entry) or not os.path.isfile(path):
            continue
        key = os.path.splitext(entry)[0]
        if pattern is not None:
            match = pattern.fullmatch(key)
            if match is None:
                continue
            key = match.group(1) if match.groups() else match.group(0)
        if key in found:
            raise DatasetError(
                f"{folder}: {os.path.basename(found[key])} and {entry} have the same name {key!r}; "
                "keep one of them"
            )
        found[key] = path
    if not found:
        kinds = " ".join(IMAGE_EXTENSIONS)
        extra = f" whose name matches {key_pattern!r}" if key_pattern else ""
        raise DatasetError(f"{folder}: no images{extra} (looked for {kinds})")
    return found


class UnpairedImagesError(DatasetError):
    """Some names are missing from some folders; ``folders`` and ``key_patterns`` say where to look
    (``ppir.data.checks`` then lists every unpaired file instead of stopping at the first)."""

    def __init__(self, message, folders, key_patterns):
        super().__init__(message)
        self.folders, self.key_patterns = list(folders), list(key_patterns)


def match_by_name(folders, key_patterns=None):
    """``(pairs, missing, listings)``: ``pairs`` as :func:`pair_by_name` for the keys every folder has;
    ``missing`` ``[(folder, [key, ...]), ...]`` for the folders lacking keys another folder has;
    ``listings`` ``[{key: path}]`` per folder."""
    key_patterns = key_patterns or [None] * len(folders)
    listings = [list_images(folder, pattern) for folder, pattern in zip(folders, key_patterns)]
    all_keys = set().union(*listings)
    missing = []
    for folder, listing in zip(folders, listings):
        lacking = sorted(all_keys - set(listing), key=natural_key)
        if lacking:
            missing.append((folder, lacking))
    common = set.intersection(*(set(listing) for listing in listings))
    keys = sorted(common, key=natural_key)
    return [(key, [listing[key] for listing in listings]) for key in keys], missing, listings


def pair_by_name(folders, key_patterns=None):
    """Pair the images of several folders by key: ``[(key, [path per folder]), ...]``.

    Every key must be present in every folder; otherwise one ``UnpairedImagesError`` (a
    ``DatasetError``) says, per folder, how many keys it lacks and shows the first few.
    """
    key_patterns = key_patterns or [None] * len(folders)
    pairs, missing, _ = match_by_name(folders, key_patterns)
    if missing:
        problems = [f"{len(keys)} name(s) missing from {folder}: {preview(keys)}" for folder, keys in missing]
        raise UnpairedImagesError("unpaired images: " + "; ".join(problems), folders, key_patterns)
    return pairs
