"""Reading and writing MATLAB .mat files, both the classic format (scipy) and v7.3 (HDF5, h5py)."""
import os

import h5py
import numpy as np
import scipy.io

from ..errors import DatasetError
from .files import preview


def require_file(path, what="file"):
    if not os.path.isfile(path):
        reason = "is a folder, not a file" if os.path.isdir(path) else "not found"
        raise DatasetError(f"{path}: {what} {reason}")
    return path


def load_mat_variable(path, key):
    """The array stored under ``key``, in MATLAB's axis order whichever format the file uses.

    v7.3 files are HDF5, which stores MATLAB's column-major arrays with the axes reversed, so
    they come back transposed (``.T``), as the official DND script does.
    """
    path = os.fspath(path)
    require_file(path, "MATLAB file")
    if h5py.is_hdf5(path):
        with h5py.File(path, "r") as mat:
            if key not in mat:
                raise DatasetError(f"{path}: no variable {key!r} (found: {preview(sorted(mat.keys()))})")
            return np.asarray(mat[key][()]).T
    try:
        variables = scipy.io.loadmat(path, variable_names=[key])
    except Exception as err:  # scipy's parser fails on a damaged file with assorted error types
        raise DatasetError(f"{path}: not a readable .mat file ({err})") from None
    if key not in variables:
        found = [name for name, _, _ in scipy.io.whosmat(path)]
        raise DatasetError(f"{path}: no variable {key!r} (found: {preview(found) or 'nothing'})")
    return variables[key]


def save_mat(path, variables):
    """``scipy.io.savemat`` written to a temporary file and renamed, so a crash leaves no half file."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as handle:
        scipy.io.savemat(handle, variables)
    os.replace(tmp, path)
    return path
