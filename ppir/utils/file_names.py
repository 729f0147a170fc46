"""File names made from image or dataset names."""
import re


def safe_file_name(name):
    """``name`` with every run of characters other than letters, digits, '.', '-', '_' replaced
    by '_', so it is one file name on every platform (``'a/b c'`` -> ``'a_b_c'``)."""
    return re.sub(r"[^\w.\-]+", "_", str(name))
