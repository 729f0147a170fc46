"""Recognising an out-of-memory error, whoever raised it: Python (``MemoryError``), Paddle
(``ResourceExhaustedError``, "Out of memory error on GPU"), ONNX Runtime ("Failed to allocate"),
C++ (``bad_alloc``). Training's one-line advice, the apps' retry in smaller tiles and the
service's 503 all ask here.
"""
OOM_MARKERS = ("out of memory", "outofmemory", "resourceexhausted", "failed to allocate", "bad_alloc",
               "cannot allocate memory", "memory allocation")  # fmt: skip


def is_out_of_memory(err):
    if isinstance(err, MemoryError):
        return True
    text = f"{type(err).__name__} {err}".lower().replace(" ", "")
    return any(marker.replace(" ", "") in text for marker in OOM_MARKERS)
