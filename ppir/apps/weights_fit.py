"""Weights that load into a network but cannot serve the task: refused when they are loaded, not
with a traceback at the first image (3-channel weights for the 6-channel defocus task, say)."""
from ..errors import WeightsError

IN_KEYS = ("in_c", "inp_channels", "in_channels")
OUT_KEYS = ("out_c", "out_channels")
PHOTO_CHANNELS = 3


def check_task_channels(arch_cfg, task_in_channels, task, source):
    """Raise ``WeightsError`` when the widths read from the weights (``arch_cfg``) do not take the
    task's input channels or do not give an RGB image."""
    given_in = next((arch_cfg[k] for k in IN_KEYS if k in arch_cfg), None)
    given_out = next((arch_cfg[k] for k in OUT_KEYS if k in arch_cfg), None)
    if given_in is not None and int(given_in) != task_in_channels:
        views = " (the left and right views stacked)" if task_in_channels == 2 * PHOTO_CHANNELS else ""
        raise WeightsError(
            f"{source}: these weights take {given_in}-channel input, the {task} task gives "
            f"{task_in_channels}{views}; use weights trained for {task}"
        )
    if given_out is not None and int(given_out) != PHOTO_CHANNELS:
        raise WeightsError(f"{source}: these weights give {given_out}-channel output, not an RGB image")
