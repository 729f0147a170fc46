"""Names of the crops of SIDD and DND: ``'%04d_%02d' % (image, block)``, both 1-based, as the
official test scripts name their PNGs."""
import re

from ..errors import DatasetError

_BLOCK_NAME = re.compile(r"(\d{4,})_(\d{2,})")


def block_name(image, block):
    """``block_name(0, 0) == '0001_01'`` (arguments are 0-based indices)."""
    return f"{image + 1:04d}_{block + 1:02d}"


def parse_block_name(name):
    """``'0001_01'`` -> ``(0, 0)``."""
    match = _BLOCK_NAME.fullmatch(str(name))
    if match is None:
        raise DatasetError(f"{name!r} is not a block name like '0001_01' (image_block, 1-based)")
    return int(match.group(1)) - 1, int(match.group(2)) - 1


def group_blocks(named_blocks):
    """``{'0001_01': a, '0001_02': b, '0002_01': c}`` -> ``{0: {0: a, 1: b}, 1: {0: c}}``."""
    grouped = {}
    for name, block in named_blocks.items():
        image, index = parse_block_name(name)
        grouped.setdefault(image, {})[index] = block
    return grouped
