"""The one weights digest: which export belongs to which weights, and whether data-parallel
replicas ended with the same weights."""
import hashlib

import numpy as np


def weights_digest(net):
    """sha256 (hex) of every parameter and buffer of ``net``: names, dtypes, shapes and values,
    in name order."""
    digest = hashlib.sha256()
    for name, tensor in sorted(net.state_dict().items()):
        value = np.ascontiguousarray(tensor.numpy())
        digest.update(f"{name}|{value.dtype}|{value.shape}|".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()
