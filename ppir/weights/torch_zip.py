"""Reading files written by ``torch.save`` without importing torch.

Zip format (torch >= 1.6): ``<archive>/data.pkl`` is a pickle whose tensors are calls to
``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)``; each storage is a
persistent id ``('storage', torch.FloatStorage, key, location, numel)`` whose bytes are the entry
``<archive>/data/<key>``, in the byte order named by ``<archive>/byteorder``.

Legacy format (``_use_new_zipfile_serialization=False``, torch < 1.6): consecutive pickles
``magic, protocol, sys_info, <object>, [storage keys]``, then for each key an int64 element count
and the raw bytes. Tensors are unpickled before their bytes are read, so storages are allocated
empty and filled afterwards; the tensors are views of them.

The torch names a pickle may use are emulated below by inert stand-ins, passed to the restricted
unpickler; any other global is refused there.
"""
import io
import pickle
import zipfile

import numpy as np

from ..errors import WeightsError
from .safe_pickle import safe_load, safe_loads

# torch storage class -> element type; BFloat16 has no numpy type and is widened to float32.
_STORAGE_DTYPES = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
    "ComplexFloatStorage": "complex64", "ComplexDoubleStorage": "complex128",
    "UntypedStorage": "uint8",
}
# torch dtype objects (``torch.float32``, ...) as pickled for ``_rebuild_tensor_v3``.
_TORCH_DTYPES = {
    "float64": "float64", "double": "float64", "float32": "float32", "float": "float32",
    "float16": "float16", "half": "float16", "bfloat16": "bfloat16", "int64": "int64",
    "long": "int64", "int32": "int32", "int": "int32", "int16": "int16", "short": "int16",
    "int8": "int8", "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
    "bool": "bool", "complex64": "complex64", "complex128": "complex128",
}
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001


class ElementType:
    """Stand-in for a torch storage class or dtype: only carries the element type's name."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def raw_dtype(self):
        """How elements are stored in the file: bfloat16 as its raw 16 bits."""
        return np.dtype("uint16" if self.name == "bfloat16" else self.name)

    def dtype(self):
        """How elements are held in memory: bfloat16 widened to float32 (exactly)."""
        return np.dtype("float32" if self.name == "bfloat16" else self.name)


class Storage:
    """A flat numpy array standing in for a torch storage (``array`` is decoded, native order)."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array


def _decode(raw, element_type, big_endian, count):
    """Raw storage bytes -> native numpy array (byte-swapped, bfloat16 widened to float32)."""
    dtype = element_type.raw_dtype()
    if len(raw) < count * dtype.itemsize:
        raise ValueError(f"storage holds {len(raw)} bytes, {count * dtype.itemsize} expected")
    array = np.frombuffer(raw, dtype=dtype.newbyteorder(">" if big_endian else "<"), count=count)
    if element_type.name == "bfloat16":
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array.astype(dtype.newbyteorder("="), copy=False)


def _strided_view(storage, offset, size, stride, dtype=None):
    """``storage[offset:]`` seen with torch's ``size``/``stride`` (in elements), bounds-checked,
    because numpy's ``as_strided`` would otherwise read outside the buffer."""
    if not isinstance(storage, Storage):
        raise pickle.UnpicklingError("a tensor without a storage")
    flat = storage.array
    if dtype is not None and flat.dtype != dtype.dtype():
        # Only an untyped byte storage may be reinterpreted (torch >= 2.3 ``_rebuild_tensor_v3``).
        if flat.dtype != np.uint8 or dtype.name == "bfloat16" or flat.size % dtype.dtype().itemsize:
            raise pickle.UnpicklingError(f"a {dtype.name} tensor on a {flat.dtype} storage")
        flat = flat.view(dtype.dtype())
    offset, size, stride = int(offset), tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride) or offset < 0 or min(size + stride, default=0) < 0:
        raise pickle.UnpicklingError(f"bad tensor geometry size={size} stride={stride}")
    if 0 in size:
        return np.zeros(size, flat.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= flat.size:
        raise pickle.UnpicklingError(f"tensor reaches element {last} of a {flat.size}-element storage")
    strides = tuple(s * flat.itemsize for s in stride)
    return np.lib.stride_tricks.as_strided(flat[offset:], size, strides, writeable=False)


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    """``_rebuild_tensor`` and ``_rebuild_tensor_v2`` (requires_grad, hooks, metadata ignored)."""
    return _strided_view(storage, storage_offset, size, stride)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, hooks, dtype, *_):
    return _strided_view(storage, storage_offset, size, stride, dtype)


def _rebuild_parameter(data, *_ignored):
    return data


def _rebuild_from_type(func, new_type, args, state):
    # ``func`` is itself one of these stand-ins (it came through the restricted unpickler).
    return func(*args)


class _TensorTypeName:
    """Stand-in for ``torch.Tensor`` / ``torch.nn.Parameter`` as the ``new_type`` argument."""


def _torch_size(dims=()):
    return tuple(dims)


TORCH_GLOBALS = {
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type,
    ("torch._tensor", "Tensor"): _TensorTypeName,
    ("torch", "Tensor"): _TensorTypeName,
    ("torch.nn.parameter", "Parameter"): _TensorTypeName,
    ("torch", "Size"): _torch_size,
    ("torch.storage", "UntypedStorage"): ElementType("uint8"),  # torch >= 2.3, with _v3 dtypes
    **{("torch", name): ElementType(dtype) for name, dtype in _STORAGE_DTYPES.items()},
    **{("torch", name): ElementType(dtype) for name, dtype in _TORCH_DTYPES.items()},
}


def _storage_id(pid, length):
    """Check a persistent id ``('storage', element type, key, location, numel, ...)``."""
    if not (isinstance(pid, tuple) and len(pid) == length and pid[0] in ("storage", b"storage")):
        raise pickle.UnpicklingError(f"unsupported persistent id {str(pid)[:60]}")
    element_type, key, numel = pid[1], str(pid[2]), pid[4]
    if not isinstance(element_type, ElementType) or not isinstance(numel, int) or numel < 0:
        raise pickle.UnpicklingError(f"malformed storage id {str(pid)[:60]}")
    return element_type, key, numel


def is_torch_zip(data):
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def read_torch_zip(data, source):
    """The object saved by ``torch.save`` (zip format), tensors as numpy arrays."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise WeightsError(f"{source}: truncated or corrupt zip file ({exc})") from None
    if any(n.endswith("/constants.pkl") and n.count("/") == 1 for n in names):
        raise WeightsError(
            f"{source}: a TorchScript archive (torch.jit.save), not weights; "
            "re-save with torch.save(model.state_dict(), ...)"
        )
    pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if not pickles:
        raise WeightsError(f"{source}: a zip without '<name>/data.pkl', not a torch.save() weights file")
    prefix = pickles[0][: -len("data.pkl")]
    try:
        big_endian = archive.read(prefix + "byteorder").strip() == b"big"
    except KeyError:  # written before torch recorded the byte order: little-endian
        big_endian = False
    storages = {}

    def persistent_load(pid):
        element_type, key, numel = _storage_id(pid, 5)
        if key not in storages:
            try:
                raw = archive.read(f"{prefix}data/{key}")
            except KeyError:
                raise WeightsError(f"{source}: storage '{key}' is missing from the zip") from None
            storages[key] = Storage(_decode(raw, element_type, big_endian, numel))
        return storages[key]

    try:
        pickled = archive.read(pickles[0])
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise WeightsError(f"{source}: corrupt zip entry {pickles[0]} ({exc})") from None
    return safe_loads(pickled, source, TORCH_GLOBALS, _guard_zip_errors(persistent_load, source))


def _guard_zip_errors(function, source):
    """Zip read/CRC errors inside ``persistent_load`` name the file instead of escaping raw."""

    def guarded(pid):
        try:
            return function(pid)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise WeightsError(f"{source}: corrupt zip entry ({exc})") from None

    return guarded


def is_legacy_torch(data):
    """Legacy ``torch.save`` files start with a protocol-2 pickle of a 10-byte magic number."""
    return data[:4] == b"\x80\x02\x8a\x0a" and int.from_bytes(data[4:14], "little") == LEGACY_MAGIC


def read_legacy_torch(data, source):
    """The object saved by ``torch.save`` in the legacy (pre-1.6, non-zip) format."""
    stream = io.BytesIO(data)
    for expected in (LEGACY_MAGIC, LEGACY_PROTOCOL):
        if safe_load(stream, source) != expected:
            raise WeightsError(f"{source}: unsupported legacy torch file (bad header)")
    sys_info = safe_load(stream, source)
    big_endian = isinstance(sys_info, dict) and sys_info.get("little_endian") is False
    roots = {}

    def persistent_load(pid):
        element_type, key, numel = _storage_id(pid, 6)
        if key not in roots:  # allocated now, filled once the bytes after the pickle are read
            roots[key] = (element_type, numel, Storage(np.zeros(numel, element_type.dtype())))
        storage, view = roots[key][2], pid[5]
        if view is None:
            return storage
        _view_key, offset, view_numel = view
        offset, view_numel = int(offset), int(view_numel)
        if offset < 0 or view_numel < 0 or offset + view_numel > numel:
            raise pickle.UnpicklingError(f"storage view outside storage '{key}'")
        return Storage(storage.array[offset : offset + view_numel])

    result = safe_load(stream, source, TORCH_GLOBALS, persistent_load)
    keys = safe_load(stream, source)
    if not isinstance(keys, list) or set(map(str, keys)) != set(roots):
        raise WeightsError(f"{source}: corrupt legacy torch file (storage list does not match)")
    for key in map(str, keys):
        element_type, numel, storage = roots[key]
        header = stream.read(8)
        count = int.from_bytes(header, "big" if big_endian else "little", signed=True)
        raw = stream.read(max(count, 0) * element_type.raw_dtype().itemsize)
        if len(header) < 8 or count != numel or len(raw) < count * element_type.raw_dtype().itemsize:
            raise WeightsError(f"{source}: truncated legacy torch file (storage '{key}')")
        storage.array[...] = _decode(raw, element_type, big_endian, count)
    return result
