"""Unpickling that can rebuild numbers, numpy arrays and plain containers, and nothing else.

A pickle is a program: every global it names is imported and may be called. Weight files come
from the internet, so ``RestrictedUnpickler`` resolves globals only from an allow-list of
constructors that cannot run code (numpy array/dtype/scalar reconstruction, ``OrderedDict``,
``tuple``). Anything else, e.g. ``os.system``, stops the load before it is called and raises
one ``WeightsError`` naming the file and the global. Format readers (torch zips, checkpoints)
add their own inert stand-ins through ``extra_globals``.
"""
import _compat_pickle
import collections
import io
import pickle

import numpy as np

from ..errors import WeightsError, one_line

# Array kinds a weights file may hold: bool, signed/unsigned int, float, complex. Object arrays
# ('O') and structured records ('V') could carry arbitrary objects, so they are refused.
NUMERIC_KINDS = frozenset("biufc")


def _numeric_dtype(dtype, where):
    dtype = np.dtype(dtype)
    if dtype.kind not in NUMERIC_KINDS:
        raise pickle.UnpicklingError(f"{where} with dtype {dtype} is not allowed (numbers only)")
    return dtype


class _NdarrayToken:
    """What the global ``numpy.ndarray`` resolves to: a non-callable token that only
    ``_reconstruct`` accepts, so a pickle cannot call the ndarray constructor itself (whose
    buffer/offset/strides arguments reach raw memory)."""

    def __repr__(self):
        return "numpy.ndarray"


NDARRAY_TOKEN = _NdarrayToken()


def _reconstruct_array(subtype, shape, typecode):
    """numpy's ``_reconstruct`` for plain ndarrays only (no subclasses such as memmap). The array
    is empty; the BUILD that follows gives it shape, dtype and data (checked by numpy)."""
    if subtype is not NDARRAY_TOKEN:
        raise pickle.UnpicklingError(f"array type {subtype!r} is not allowed")
    return np.ndarray.__new__(np.ndarray, (0,), np.uint8)


def _make_dtype(spec, align=False, copy=False):
    return np.dtype(_numeric_dtype(spec, "an array"), bool(align), bool(copy))


def _make_scalar(dtype, data=None):
    dtype = _numeric_dtype(dtype, "a numpy scalar")
    if isinstance(data, str):  # a Python 2 pickle read with encoding='latin1'
        data = data.encode("latin1")
    if not isinstance(data, (bytes, bytearray)) or len(data) != dtype.itemsize:
        raise pickle.UnpicklingError("malformed numpy scalar")
    return np.frombuffer(bytes(data), dtype=dtype)[0]


def _latin1_bytes(text, encoding="latin1"):
    """Protocol-2 pickles written by Python 3 encode ``bytes`` as ``_codecs.encode(str, 'latin1')``."""
    if not isinstance(text, str) or encoding.replace("-", "").lower() != "latin1":
        raise pickle.UnpicklingError("only latin1-encoded byte strings are allowed")
    return text.encode("latin1")


def _for_numpy_modules(name, function):
    # numpy 1.x pickles name ``numpy.core.multiarray``, numpy 2.x ``numpy._core.multiarray``.
    return {(module, name): function for module in ("numpy.core.multiarray", "numpy._core.multiarray")}


SAFE_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    # paddle.save pickles a Tensor as ``tuple((name, ndarray))``.
    ("builtins", "tuple"): tuple,
    ("numpy", "ndarray"): NDARRAY_TOKEN,
    ("numpy", "dtype"): _make_dtype,
    ("_codecs", "encode"): _latin1_bytes,
    **_for_numpy_modules("_reconstruct", _reconstruct_array),
    **_for_numpy_modules("scalar", _make_scalar),
}


class ForbiddenGlobalError(WeightsError):
    """The pickle names a global outside the allow-list: the file is unsafe, not just corrupt."""


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose globals come only from ``SAFE_GLOBALS`` + ``extra_globals``."""

    def __init__(self, file, source, extra_globals=None, persistent_load=None):
        super().__init__(file, encoding="latin1")
        self.source = source
        self.allowed = {**SAFE_GLOBALS, **(extra_globals or {})}
        if persistent_load is not None:
            self.persistent_load = persistent_load

    def find_class(self, module, name):
        # Protocol 0-2 pickles name Python 2 modules (``__builtin__``, ``copy_reg``); map them as
        # pickle's own find_class does, so allowed names and error messages use Python 3 names.
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        try:
            return self.allowed[(module, name)]
        except KeyError:
            hint = (
                "; it looks like a pickled torch object: re-save with torch.save(model.state_dict())"
                if module.split(".")[0] == "torch" else ""
            )
            raise ForbiddenGlobalError(
                f"{self.source}: refused to unpickle forbidden global '{module}.{name}' "
                f"(weight files may only hold tensors, numpy arrays and plain containers{hint})"
            ) from None


def safe_load(file, source, extra_globals=None, persistent_load=None):
    """Unpickle one object from an open binary file; any failure is a ``WeightsError``."""
    unpickler = RestrictedUnpickler(file, source, extra_globals, persistent_load)
    try:
        return unpickler.load()
    except WeightsError:
        raise
    except EOFError:
        raise WeightsError(f"{source}: truncated file (the pickle ends early)") from None
    except MemoryError:
        raise WeightsError(f"{source}: corrupt file (it asks for more memory than exists)") from None
    except Exception as exc:  # the unpickler can fail in many ways on corrupt input
        raise WeightsError(f"{source}: truncated or corrupt pickle ({one_line(exc)})") from None


def safe_loads(data, source, extra_globals=None, persistent_load=None):
    return safe_load(io.BytesIO(data), source, extra_globals, persistent_load)
