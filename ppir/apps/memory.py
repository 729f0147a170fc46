"""How large a piece of image one forward pass may take without running out of memory.

Peak memory of a forward pass grows linearly with the pixels it sees; the slope (bytes per input
pixel) was measured per architecture and backend with ``benchmarks/measure_memory.py`` and is kept
next to each predictor's tasks. The budget is a fraction of the memory available right now: host
RAM for the CPU (``MemAvailable`` of /proc/meminfo, capped by a cgroup limit when the process runs
in a container, else ``os.sysconf``), free GPU memory for the GPU. Several engineers or services
may share the machine, hence half of what is free, not all of it.
"""
import os

from ..utils.device import is_gpu
from ..utils.padding import padded_size

BUDGET_FRACTION = 0.5


def host_available_bytes():
    available = _meminfo_available()
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            available = 4 << 30  # unknown platform: assume a modest 4 GiB
    limit = _cgroup_headroom()
    return min(available, limit) if limit is not None else available


def _meminfo_available():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _cgroup_headroom():
    """Bytes left under a cgroup v2 (memory.max) or v1 (limit_in_bytes) limit, or None."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        try:
            with open(limit_file) as f:
                limit = f.read().strip()
            with open(usage_file) as f:
                usage = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 1 << 60:  # 'max' or a huge number mean "no limit"
            return max(int(limit) - usage, 0)
    return None


def gpu_available_bytes(device):
    import paddle

    index = int(str(device).partition(":")[2] or 0)
    total = paddle.device.cuda.get_device_properties(index).total_memory
    return total - paddle.device.cuda.memory_reserved(index)


def available_bytes(device):
    return gpu_available_bytes(device) if is_gpu(device) else host_available_bytes()


def max_pixels_per_pass(bytes_per_pixel, device, fraction=BUDGET_FRACTION):
    return int(fraction * available_bytes(device) / bytes_per_pixel)


def tile_for_budget(height, width, max_pixels, multiple):
    """None when the whole (padded) image fits in ``max_pixels``, else the largest square tile
    side, a multiple of ``multiple``, that does (at least ``multiple``)."""
    padded = padded_size(height, multiple) * padded_size(width, multiple)
    if padded <= max_pixels:
        return None
    side = int(max_pixels ** 0.5) // multiple * multiple
    return max(side, multiple)
