"""Bad files in a dataset: reported by the process that drives the run, never inside the loader.

An exception raised while a DataLoader reads an item ends up in Paddle's reader thread or in a
worker process, where it kills the queue the training loop waits on: the run hangs, or dies with
two tracebacks. So items are read through :class:`GuardedItems`, which never raises: a file that
cannot be read becomes a marker in the batch, and :func:`check_batch`, called by the loop, turns
it into one ``DatasetError`` (``<file>: <why>``) in the main thread, where the command line reports
it and exits. With ``skip_bad_files`` the file is skipped instead (training draws the next item in
its place; evaluation leaves the image out), and :class:`SkippedFiles` counts and names them.
"""
import logging
import traceback

import cv2
import numpy as np

from ..errors import BadDataError, DatasetError, PpirError, one_line

log = logging.getLogger("ppir.data")

# Failures of one file (unreadable, truncated, not an image, a broken .mat): skippable.
BAD_FILE_ERRORS = (PpirError, OSError, cv2.error, EOFError)
BAD_KEY, SKIPPED_KEY, BUG_KEY, PLACEHOLDER_KEY = "bad_file", "skipped_files", "loader_error", "no_data"
MAX_SUBSTITUTES = 100


class GuardedItems:
    """``dataset[key]``, or a marker dict when reading fails; never raises (except IndexError).

    ``skip``: a bad item is skipped; ``substitute(key, attempt)`` gives the key to read in its
    place (training), or, when None, the item comes back as ``{'skipped_files': [...]}`` only.
    """

    def __init__(self, dataset, skip=False, substitute=None):
        self.dataset = dataset
        self.skip = bool(skip)
        self.substitute = substitute

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, key):
        skipped = []
        for attempt in range(MAX_SUBSTITUTES + 1):
            try:
                item = self.dataset[key]
            except IndexError:
                raise
            except BAD_FILE_ERRORS as err:
                if not self.skip:
                    return {BAD_KEY: one_line(err)}
                skipped.append(one_line(err))
                if self.substitute is None:
                    return {SKIPPED_KEY: skipped}
                key = self.substitute(key, attempt + 1)
                continue
            except Exception:  # noqa: BLE001 - a bug: carried to the main process, shown there
                return {BUG_KEY: traceback.format_exc()}
            if skipped:
                item = dict(item, **{SKIPPED_KEY: skipped})
            return item
        return {BAD_KEY: f"{skipped[-1]} (and {len(skipped) - 1} more unreadable items in a row; "
                         "is the dataset readable at all?)"}


def guarded_collate(collate):
    """A collate function that keeps the markers of :class:`GuardedItems` beside the batch."""

    def collate_guarded(items):
        batch = {}
        bad = [item[BAD_KEY] for item in items if BAD_KEY in item]
        bugs = [item[BUG_KEY] for item in items if BUG_KEY in item]
        skipped = [name for item in items for name in item.get(SKIPPED_KEY, ())]
        good = [{k: v for k, v in item.items() if k != SKIPPED_KEY} for item in items
                if not (BAD_KEY in item or BUG_KEY in item or set(item) == {SKIPPED_KEY})]
        if good and not (bad or bugs):
            batch = collate(good)
        markers = {BAD_KEY: bad, BUG_KEY: bugs, SKIPPED_KEY: skipped}
        batch.update({key: value for key, value in markers.items() if value})  # Paddle refuses empty lists
        if not any(isinstance(value, np.ndarray) for value in batch.values()):  # and a batch without arrays
            batch[PLACEHOLDER_KEY] = np.zeros(1, dtype=np.uint8)
        return batch

    return collate_guarded


class DataLoaderBug(RuntimeError):
    """An unexpected exception while reading an item (a bug, shown with its traceback)."""


class SkippedFiles:
    """The bad files of one dataset (``section``, e.g. ``train.dataset``): each logged when first
    met (``note``), all of them named in one closing line (``summary``)."""

    def __init__(self, section, write=None):
        self.what = section
        self.names = {}  # message -> times skipped
        self.write = write or log.warning

    def note(self, messages):
        for message in messages:
            if message not in self.names:
                self.write(f"{self.what}: skipped bad file ({len(self.names) + 1} so far): {message}")
            self.names[message] = self.names.get(message, 0) + 1

    def summary(self):
        if not self.names:
            return None
        times = sum(self.names.values())
        again = f", {times} skips in all" if times > len(self.names) else ""
        return f"{self.what}: skipped {len(self.names)} bad file(s){again}: " + "; ".join(self.names)


def check_batch(batch, skipped):
    """Raise for a bad file (``DatasetError``) or a loader bug; log skipped files; return whether
    the batch holds data (False when every item of it was skipped)."""
    if batch.get(BUG_KEY):
        raise DataLoaderBug("reading a dataset item failed:\n" + batch[BUG_KEY][0])
    if batch.get(BAD_KEY):
        raise BadDataError(f"{batch[BAD_KEY][0]} (to skip such files: {skipped.what}.skip_bad_files: true)")
    if batch.get(SKIPPED_KEY):
        skipped.note(batch[SKIPPED_KEY])
    for key in (BAD_KEY, BUG_KEY, SKIPPED_KEY, PLACEHOLDER_KEY):
        batch.pop(key, None)
    return bool(batch)
