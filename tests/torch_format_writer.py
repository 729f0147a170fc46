"""Test helper: writes ``torch.save`` files without torch, in the zip format (torch >= 1.6) and
the legacy format, so tests can produce every wrapper an official checkpoint comes in.

numpy arrays anywhere in the object become tensors pickled as torch does:
``torch._utils._rebuild_tensor_v2(<storage persistent id>, 0, shape, stride, False, OrderedDict())``.
The constants below are written from torch's documented layout, independently of ppir's reader.
"""
import collections
import io
import pickle
import zipfile

import numpy as np

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001
STORAGE_CLASSES = {
    "float32": "FloatStorage", "float64": "DoubleStorage", "float16": "HalfStorage",
    "int64": "LongStorage", "int32": "IntStorage", "uint8": "ByteStorage", "bool": "BoolStorage",
}


class TorchName:
    """A global pickled by name (``torch.FloatStorage``, ...); torch is never imported."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle only accepts callables as reduce functions
        raise TypeError("a stand-in for pickling, not callable")


REBUILD_TENSOR_V2 = TorchName("torch._utils", "_rebuild_tensor_v2")


class _TensorPickler(pickle._Pickler):
    """Protocol-2 pickler turning arrays into torch tensors over numbered storages."""

    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, legacy, byteorder):
        super().__init__(file, protocol=2)
        self.legacy, self.byteorder = legacy, byteorder
        self.storages = []  # (key, contiguous array) in the order they were met

    def save_torch_name(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("ascii"))
        self.memoize(obj)

    dispatch[TorchName] = save_torch_name

    def reducer_override(self, obj):
        if not isinstance(obj, np.ndarray):
            return NotImplemented
        array = obj.copy(order="C")  # (np.ascontiguousarray would make 0-d arrays 1-d)
        key = str(len(self.storages))
        self.storages.append((key, array))
        stride = tuple(s // array.itemsize for s in array.strides) if array.size else (1,) * array.ndim
        storage = _StorageRef(key, array)
        return REBUILD_TENSOR_V2, (storage, 0, array.shape, stride, False, collections.OrderedDict())

    def persistent_id(self, obj):
        if not isinstance(obj, _StorageRef):
            return None
        kind = TorchName("torch", STORAGE_CLASSES[obj.array.dtype.name])
        pid = ("storage", kind, obj.key, "cpu", obj.array.size)
        return pid + (None,) if self.legacy else pid

    def raw_storages(self):
        order = ">" if self.byteorder == "big" else "<"
        return [(key, a.astype(a.dtype.newbyteorder(order)).tobytes()) for key, a in self.storages]


class _StorageRef:
    def __init__(self, key, array):
        self.key, self.array = key, array


def _pickle_tensors(obj, legacy, byteorder="little"):
    buffer = io.BytesIO()
    pickler = _TensorPickler(buffer, legacy, byteorder)
    pickler.dump(obj)
    return buffer.getvalue(), pickler


def write_torch_zip(path, obj, archive_name="archive", byteorder="little"):
    """What ``torch.save(obj, path)`` writes (zip format) with ``obj``'s arrays as tensors."""
    pickled, pickler = _pickle_tensors(obj, legacy=False, byteorder=byteorder)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{archive_name}/data.pkl", pickled)
        archive.writestr(f"{archive_name}/byteorder", byteorder)
        for key, raw in pickler.raw_storages():
            archive.writestr(f"{archive_name}/data/{key}", raw)
        archive.writestr(f"{archive_name}/version", "3\n")


def write_legacy_torch(path, obj):
    """What ``torch.save(obj, path, _use_new_zipfile_serialization=False)`` writes."""
    buffer = io.BytesIO()
    sys_info = {"protocol_version": LEGACY_PROTOCOL_VERSION, "little_endian": True,
                "type_sizes": {"short": 2, "int": 4, "long": 4}}
    for header in (LEGACY_MAGIC_NUMBER, LEGACY_PROTOCOL_VERSION, sys_info):
        pickle.dump(header, buffer, protocol=2)
    pickled, pickler = _pickle_tensors(obj, legacy=True)
    buffer.write(pickled)
    storages = pickler.raw_storages()
    pickle.dump([key for key, _ in storages], buffer, protocol=2)
    for (key, raw), (_, array) in zip(storages, pickler.storages):
        buffer.write(np.int64(array.size).astype("<i8").tobytes() + raw)
    with open(path, "wb") as file:
        file.write(buffer.getvalue())
