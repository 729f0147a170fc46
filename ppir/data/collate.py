"""Turning dataset items (``{'lq', 'gt', 'name'}``) into a batch, for training and evaluation."""
import numpy as np


def collate_items(items):
    """Stack ``lq``/``gt`` arrays into batches and keep names as a list."""
    batch = {"name": [item["name"] for item in items]}
    for key in ("lq", "gt"):
        if key in items[0]:
            batch[key] = np.stack([item[key] for item in items]).astype(np.float32)
    return batch
