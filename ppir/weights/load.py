"""Reading state dicts from the files people have, and loading them into a network strictly.

Formats, told apart by their first bytes (not by file name):
* ``torch.save`` files (zip, or the legacy pre-1.6 format), read without torch (``torch_zip``);
* pickles written by ``paddle.save`` (PaddleGAN ``.pdparams``) and by ppir (weights, checkpoints).
All are unpickled by the restricted unpickler (``safe_pickle``).

Which state dict inside a file (``select_state_dict``): the object itself if it is one, else the
first of ``WRAPPER_KEYS`` that holds one. The trained weights are preferred over their running
average, as BasicSR does (it loads ``params`` unless told ``params_ema``) and as ppir checkpoints
do (``model`` before ``ema``); ``key='params_ema'`` / ``key='ema'`` picks the average.

Name normalisation: a ``module.`` prefix on every key (``nn.DataParallel``) is stripped, and a
PReLU weight matches under PyTorch's ``weight`` or Paddle's ``_weight``.
"""
import collections
import os

import numpy as np
import paddle

from ..errors import WeightsError
from .sanity import check_tensors
from .safe_pickle import NUMERIC_KINDS, ForbiddenGlobalError, safe_loads
from .torch_zip import is_legacy_torch, is_torch_zip, read_legacy_torch, read_torch_zip

WRAPPER_KEYS = ("state_dict", "params", "model", "generator", "params_ema", "ema")
# Entries paddle.save adds beside the tensors: the parameter name table, and the table that says
# how tensors over 1 GiB were cut into slices for pickle protocols 2 and 3.
PADDLE_NAME_TABLE = "StructuredToParameterName@@"
PADDLE_SLICE_TABLE = "UnpackBigParamInfor@@"
DATA_PARALLEL_PREFIX = "module."
# PReLU's parameter is ``weight`` in PyTorch and ``_weight`` in Paddle.
PRELU_RENAMES = {"weight": "_weight", "_weight": "weight"}
SHOWN_PER_KIND = 4

LoadReport = collections.namedtuple("LoadReport", "loaded missing unexpected")
LoadReport.__doc__ = "Net keys that were set, net keys left as they were, file keys not used."


def read_weights_file(path, extra_globals=None):
    """Whatever object a weights file holds (tensors as numpy arrays), read safely.
    ``extra_globals`` adds inert stand-ins to the pickle allow-list (for checkpoints)."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        raise WeightsError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise WeightsError(f"{source}: is a directory, not a weights file") from None
    except OSError as exc:
        raise WeightsError(f"{source}: cannot read ({exc.strerror or exc})") from None
    if not data:
        raise WeightsError(f"{source}: empty file, not a weights file")
    if is_torch_zip(data):
        return read_torch_zip(data, source)
    if is_legacy_torch(data):
        return read_legacy_torch(data, source)
    if data[:1] == b"\x80":  # the PROTO opcode every pickle of protocol >= 2 starts with
        return safe_loads(data, source, extra_globals)
    if data[257:262] == b"ustar":
        raise WeightsError(f"{source}: tar-based torch file (torch < 0.4); re-save it with a newer torch")
    try:  # perhaps a protocol 0/1 pickle; if not, say what the file is not
        return safe_loads(data, source, extra_globals)
    except ForbiddenGlobalError:
        raise
    except WeightsError:
        raise WeightsError(
            f"{source}: not a weights file (expected a torch .pth, a Paddle .pdparams or a ppir checkpoint)"
        ) from None


def read_state_dict(path, key=None):
    """``{name: numpy array}`` from a weights file: unwrapped (see module doc), prefix-stripped."""
    return select_state_dict(read_weights_file(path), os.fspath(path), key)


def select_state_dict(obj, source, key=None):
    """The state dict inside ``obj`` (a file's content, or a dict given by the caller)."""
    if key is not None:
        if not isinstance(obj, dict) or key not in obj:
            raise WeightsError(f"{source}: has no entry {key!r} (it holds {_describe(obj)})")
        state = _as_state_dict(obj[key], source)
        if state is None:
            raise WeightsError(f"{source}: entry {key!r} is not a state dict (it holds {_describe(obj[key])})")
        return state
    state = _as_state_dict(obj, source)
    if state is None and isinstance(obj, dict):
        wrapped = (_as_state_dict(obj[k], source) for k in WRAPPER_KEYS if k in obj)
        state = next((s for s in wrapped if s is not None), None)
    if state is None:
        raise WeightsError(
            f"{source}: holds no state dict ({_describe(obj)}); pass key=<entry> to pick one"
        )
    return state


def _as_state_dict(obj, source):
    """``obj`` as a normalised ``{name: array}``, or None if it is not a state dict."""
    if not isinstance(obj, dict):
        return None
    items = {k: v for k, v in obj.items() if k not in (PADDLE_NAME_TABLE, PADDLE_SLICE_TABLE)}
    arrays = {name: _as_array(value) for name, value in items.items()}
    if not arrays or any(not isinstance(k, str) or v is None for k, v in arrays.items()):
        return None
    _join_paddle_slices(arrays, obj.get(PADDLE_SLICE_TABLE), source)
    if all(name.startswith(DATA_PARALLEL_PREFIX) for name in arrays):
        arrays = {name[len(DATA_PARALLEL_PREFIX) :]: v for name, v in arrays.items()}
    return check_tensors(arrays, source)


def _as_array(value):
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        value = value[1]  # paddle.save writes a nested Tensor as (tensor name, array)
    if isinstance(value, paddle.Tensor):
        value = value.numpy()
    if isinstance(value, np.ndarray) and value.dtype.kind in NUMERIC_KINDS:
        return value
    return None


def _join_paddle_slices(arrays, table, source):
    if table is None:
        return
    try:
        for name, info in table.items():
            parts = [arrays.pop(part) for part in info["slices"]]
            arrays[name] = np.concatenate(parts).reshape(info["OriginShape"])
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise WeightsError(f"{source}: corrupt table of sliced tensors ({exc!r})") from None


def _describe(obj):
    if isinstance(obj, dict):
        return f"keys {_preview([str(k) for k in obj])}" if obj else "an empty dict"
    name = type(obj).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _preview(names, limit=SHOWN_PER_KIND):
    shown = ", ".join(names[:limit])
    return shown + (f", ... {len(names) - limit} more" if len(names) > limit else "")


def load_weights(net, weights, strict=True, key=None, source=None):
    """Set ``net``'s parameters from a file path or a (possibly wrapped) state dict.

    Everything is checked before anything is set, so a failed load leaves ``net`` unchanged.
    Strict (default): every net key must get a value and every file key must be used; otherwise
    one ``WeightsError`` lists missing keys, unexpected keys and shape mismatches. Not strict:
    missing and unexpected keys are allowed (see the returned ``LoadReport``). Always errors: a
    shape mismatch, keys that alias one shared parameter in ``net`` but have different values in
    the file, and nothing at all to load. ``source`` names a dict's origin (its file) in errors.
    """
    if isinstance(weights, dict):
        source = source or "the given state dict"
        state = select_state_dict(weights, source, key)
    else:
        source = os.fspath(weights)
        state = read_state_dict(source, key)
    plan = _match(net, state)
    problems = plan.problems(strict)
    if problems or not plan.assignments:
        raise WeightsError(f"{source} does not match {type(net).__name__}: {problems or 'no key in common'}")
    for tensor, value in plan.assignments:
        tensor.set_value(np.ascontiguousarray(value, dtype=_numpy_dtype(tensor, value)))
    loaded = [name for names in plan.loaded_groups for name in names]
    return LoadReport(loaded, plan.missing, plan.unexpected)


def _numpy_dtype(tensor, value):
    try:
        return np.dtype(str(tensor.dtype).replace("paddle.", ""))
    except TypeError:  # no numpy twin (bfloat16): let Paddle convert
        return value.dtype


class _Plan:
    """What loading a state dict into a net would do, and what stands in its way."""

    def __init__(self, group_count):
        self.group_count = group_count  # distinct tensors in the net
        self.assignments, self.loaded_groups = [], []
        self.missing, self.unexpected, self.mismatched, self.disagreeing = [], [], [], []
        self.missing_shapes, self.unexpected_shapes = {}, {}

    def problems(self, strict):
        """One line naming every problem (empty if none)."""
        kinds = [
            (self.missing if strict else [], "missing key", "missing keys"),
            (self.unexpected if strict else [], "unexpected key", "unexpected keys"),
            (self.mismatched, "shape mismatch", "shape mismatches"),
            (self.disagreeing, "disagreeing alias of a shared parameter",
             "disagreeing aliases of shared parameters"),
        ]
        parts = [f"{len(items)} {one if len(items) == 1 else many} ({_preview(items)})"
                 for items, one, many in kinds if items]
        mostly_unmatched = len(self.assignments) < self.group_count / 2
        hint = ""
        renamed = self.renamed() if strict else []
        if renamed:
            hint = " - renamed? " + ", ".join(f"`{net_key}` \u2190 `{file_key}`?" for net_key, file_key in renamed)
        elif parts and mostly_unmatched and (self.unexpected or self.mismatched):
            hint = " - is the file for another architecture, task or width?"
        return ", ".join(parts) + hint

    def renamed(self):
        """(net key, file key) pairs where a missing and an unexpected key have the same shape
        (and no other candidate does): most likely one key under another name."""
        pairs = []
        for net_key in self.missing:
            shape = self.missing_shapes.get(net_key)
            same = [k for k in self.unexpected if self.unexpected_shapes.get(k) == shape]
            rivals = [m for m in self.missing if self.missing_shapes.get(m) == shape]
            if len(same) == 1 and len(rivals) == 1:
                pairs.append((net_key, same[0]))
        return pairs[:SHOWN_PER_KIND]


def _match(net, state):
    groups = _shared_groups(net)
    plan = _Plan(len(groups))
    used = set()
    for tensor, names in groups:
        found = [k for k in (_file_key(name, state) for name in names) if k is not None]
        used.update(found)
        if not found:
            plan.missing.extend(names)
            plan.missing_shapes.update((name, list(tensor.shape)) for name in names)
            continue
        net_shape = list(tensor.shape)
        wrong = [k for k in found if list(state[k].shape) != net_shape]
        if wrong:
            plan.mismatched.extend(f"{k}: file {_shape(state[k].shape)} vs net {_shape(net_shape)}" for k in wrong)
            continue
        value = state[found[0]]
        differing = [k for k in found[1:] if not np.array_equal(state[k], value)]
        if differing:
            plan.disagreeing.extend(f"{found[0]} != {k}" for k in differing)
            continue
        plan.assignments.append((tensor, value))
        plan.loaded_groups.append(names)
    plan.unexpected = [k for k in state if k not in used]
    plan.unexpected_shapes = {k: list(state[k].shape) for k in plan.unexpected}
    return plan


def _shared_groups(net):
    """Each tensor of ``net.state_dict()`` with every key that reaches it. Several keys reach one
    tensor when a layer is shared (MPRNet's single PReLU appears under 55 keys)."""
    groups = {}
    for name, tensor in net.state_dict().items():
        groups.setdefault(id(tensor), (tensor, []))[1].append(name)
    return list(groups.values())


def _file_key(net_key, state):
    if net_key in state:
        return net_key
    head, dot, leaf = net_key.rpartition(".")
    if leaf in PRELU_RENAMES and head + dot + PRELU_RENAMES[leaf] in state:
        return head + dot + PRELU_RENAMES[leaf]
    return None


def _shape(shape):
    return "[" + ",".join(str(int(n)) for n in shape) + "]"
