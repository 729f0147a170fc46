"""Running out of memory during a pass: the image is tried again in smaller tiles before it fails,
and the failure says what was tried (never advising a tile size that was already used).

The tile chosen up front comes from a measured memory slope and what the system reports free
(``memory.py``); both can be wrong (other processes, a container limit, a backend's workspace).
Halving the tile is cheap next to losing the image.
"""
import logging

from ..errors import PpirError
from ..utils.out_of_memory import is_out_of_memory

log = logging.getLogger("ppir.apps")

SMALLEST_TILE = 64


class OutOfMemory(PpirError, MemoryError):
    """A pass ran out of memory at every tile size tried."""


def smaller_tile(tile, height, width, overlap, multiple):
    """The next tile side to try after ``tile`` (None: the whole image) ran out of memory, or None
    when no smaller tile makes sense (it must stay above ``overlap`` and ``SMALLEST_TILE``)."""
    current = max(height, width) if tile is None else tile
    smaller = current // 2 // multiple * multiple
    if smaller < max(SMALLEST_TILE, multiple) or smaller <= overlap:
        return None
    return smaller


def with_smaller_tiles(restore_at, height, width, tile, overlap, multiple, allow_tiles=True):
    """``restore_at(tile)`` (``tile`` None: whole image), halving the tile on out-of-memory errors
    (not when ``allow_tiles`` is False: the user asked for no tiles)."""
    tried = []
    while True:
        try:
            return restore_at(tile)
        except Exception as err:  # noqa: BLE001 - only out-of-memory errors are retried
            if not is_out_of_memory(err):
                raise
        # Out of the except block: the failed pass's frames (and arrays) are released before the
        # next try, and the error raised below does not hold them as its __context__.
        tried.append("the whole image" if tile is None else f"tiles of {tile}")
        tile = smaller_tile(tile, height, width, overlap, multiple) if allow_tiles else None
        if tile is None:
            advice = f"lower --tile_overlap ({overlap}), " if allow_tiles else "allow tiles (not --tile 0), "
            raise OutOfMemory(f"out of memory for a {width}x{height} image; tried {', '.join(tried)}; free memory, "
                              f"{advice}or use a machine with more memory")
        log.warning("out of memory with %s; trying again in tiles of %d", tried[-1], tile)
