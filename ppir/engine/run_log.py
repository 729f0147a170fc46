"""What a training run reports: a tqdm bar, ``train.log`` lines, VisualDL scalars and images.

Only rank 0 reports; the other ranks get a :class:`RunLog` that does nothing (``enabled=False``).
"""
import datetime
import os
import sys

from tqdm import tqdm


class RunLog:
    def __init__(self, run_dir, total_iters, start_iter, progress_bar=True, visualdl=False, enabled=True):
        self.enabled = enabled
        self.bar = None
        self.file = None
        self.writer = None
        if not enabled:
            return
        os.makedirs(run_dir, exist_ok=True)
        self.file = open(os.path.join(run_dir, "train.log"), "a", encoding="utf-8")
        if progress_bar:
            self.bar = tqdm(total=total_iters, initial=start_iter, dynamic_ncols=True, desc="train", file=sys.stderr)
        if visualdl:
            from visualdl import LogWriter

            self.writer = LogWriter(logdir=os.path.join(run_dir, "visualdl"))

    def line(self, text):
        """A timestamped line in train.log, echoed to the terminal (above the bar)."""
        if not self.enabled:
            return
        stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        self.file.write(f"{stamp} {text}\n")
        self.file.flush()
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def step(self, iteration, loss, lr):
        if self.bar is not None:
            self.bar.update(iteration - self.bar.n)
            self.bar.set_postfix(loss=f"{loss:.4g}", lr=f"{lr:.3g}", refresh=False)

    def scalars(self, values, iteration):
        if self.writer is not None:
            for tag, value in values.items():
                self.writer.add_scalar(tag=tag, value=float(value), step=iteration)

    def images(self, named_images, iteration):
        if self.writer is not None:
            for tag, image in named_images:
                self.writer.add_image(tag=tag, img=image, step=iteration, dataformats="HWC")

    def close(self):
        if self.bar is not None:
            self.bar.close()
        if self.writer is not None:
            self.writer.close()
        if self.file is not None:
            self.file.close()
