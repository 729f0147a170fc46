"""Operations on a batch that work the same on NCHW Paddle tensors and NumPy arrays."""
import numpy as np
import paddle


def take_rows(batch, indices):
    """``batch[indices]`` along the first (sample) axis."""
    indices = np.asarray(indices, dtype=np.int64)
    if isinstance(batch, np.ndarray):
        return batch[indices]
    return paddle.gather(batch, paddle.to_tensor(indices, place=batch.place), axis=0)


def per_sample_weights(values, like):
    """``values`` (one per sample, or one for all) shaped to broadcast against ``like``."""
    values = np.asarray(values, dtype=np.float32).reshape(-1, *([1] * (len(like.shape) - 1)))
    if isinstance(like, np.ndarray):
        return values
    return paddle.to_tensor(values, dtype=like.dtype, place=like.place)
