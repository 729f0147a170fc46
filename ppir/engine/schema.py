"""Every config key ppir understands, its type and its default: the one place to look them up.

A config file may set any subset of these keys; ``load_config`` fills the rest from here, and any
key that is not here (a typo such as ``train.lr_shedule``) is an error naming the file. Parts that
are built from registries (``arch``, datasets, ``train.loss``, ``train.lr_schedule``) are
:class:`Free` mappings: their keys are the keyword arguments of the class or function they name,
and a wrong one is reported when that part is built.
"""


class Field:
    """One config value: ``kind`` is int, float, bool, str or list; ``None`` is allowed if ``nullable``.

    Numbers may have a ``minimum``/``maximum`` (inclusive); lists may say the kind of their
    ``items`` and their ``length``. A value outside them is a config error naming the key, not a
    crash (or an endless loop) deep inside training.
    """

    def __init__(self, kind, default, nullable=False, choices=None, doc="", kind_name=None,
                 minimum=None, maximum=None, items=None, length=None):
        self.kind = kind
        self.kind_name = kind_name
        self.default = default
        self.nullable = nullable or default is None
        self.choices = choices
        self.doc = doc
        self.minimum = minimum
        self.maximum = maximum
        self.items = items
        self.length = length


class Free:
    """A mapping passed on as keyword arguments (validated by whatever it builds). ``fields``:
    keys ppir itself reads from the mapping (not passed on), checked like any other field."""

    def __init__(self, default=None, doc="", fields=None):
        self.default = default
        self.doc = doc
        self.fields = fields or {}


# Keys of every dataset mapping that ppir reads itself (builders.dataset leaves them out).
DATASET_FIELDS = {
    "skip_bad_files": Field(bool, False, doc="skip (and log) files that cannot be read instead of stopping the run"),
}


class MapOf:
    """A mapping of user-chosen names (e.g. validation sets) to sections with a fixed schema."""

    def __init__(self, section, doc=""):
        self.section = section
        self.doc = doc


EVAL_SET = {
    "dataset": Free(doc="dataset config for ppir.data.build_dataset (full images, no crops)", fields=DATASET_FIELDS),
    "protocol": Field(
        (str, list, dict), None, kind_name="a protocol name, a list of metric configs or a mapping",
        doc="metric protocol of ppir.metrics: a preset name (gopro, sidd_val, rain, ...) or metric configs",
    ),
    "max_images": Field(int, None, minimum=1, doc="score only the first N images (a quick look, not the benchmark)"),
    "submission": Field(str, None, choices=("sidd", "dnd"), doc="also write the benchmark's .mat result files"),
}

SCHEMA = {
    "name": Field(str, None, doc="run name; default: the config file's name without .yaml"),
    "output_dir": Field(str, "output", doc="runs go to <output_dir>/<name>/"),
    "seed": Field(int, 1234, minimum=0, doc="seeds Python, NumPy, Paddle and the data order"),
    "device": Field(str, None, doc="'cpu', 'gpu' or 'gpu:N'; default: the GPU when there is one"),
    "custom_imports": Field(list, [], items=str,
                            doc="modules imported before anything is built, where your own networks, datasets, "
                                "losses or metrics register themselves (mmengine's convention)"),
    "arch": Free(doc="network config for ppir.archs.build_arch: {name: MPRNet, task: ..., **overrides}"),
    "train": {
        "dataset": Free(doc="training dataset config for ppir.data.build_dataset", fields=DATASET_FIELDS),
        "batch_size": Field(int, 16, minimum=1, doc="global batch over all processes (split evenly per rank)"),
        "micro_batches": Field(int, 1, minimum=1,
                               doc="gradient accumulation: run each batch in this many slices, one optimizer step"),
        "num_workers": Field(int, 0, minimum=0, doc="DataLoader worker processes per rank"),
        "total_iters": Field(int, 1000, minimum=1, doc="optimizer steps"),
        "loss": Free(doc="loss config for ppir.losses.build_loss"),
        "optimizer": {
            "name": Field(str, "Adam", choices=("Adam", "AdamW")),
            "lr": Field(float, 2e-4, minimum=0.0, doc="base learning rate (the schedule scales it)"),
            "betas": Field(list, [0.9, 0.999], items=float, length=2, minimum=0.0, maximum=1.0),
            "eps": Field(float, 1e-8, minimum=0.0),
            "weight_decay": Field(float, 0.0, minimum=0.0, doc="Adam: L2 added to the gradient; AdamW: decoupled"),
        },
        "lr_schedule": Free(
            default={"name": "constant"},
            doc="ppir.engine.schedulers: constant | warmup_cosine | cyclic_cosine, with its arguments",
        ),
        "grad_clip_norm": Field(float, None, minimum=0.0, doc="clip the global gradient norm to this value"),
        "pretrained": Field(str, None, choices=("released",),
                            doc="'released': start from arch.name/arch.task's released weights (downloaded once; --load W "
                                "takes W instead); with either, the widths come from the weights"),
        "pretrained_task": Field(str, None, doc="the released model to start from when arch has no task option "
                                                 "(MIRNet: real_denoising, ...); default: arch.task"),
        "check_data": Field(bool, True, doc="check the paired datasets' file headers before training; stop on problems"),
        "ema_decay": Field(float, None, minimum=0.0, maximum=1.0, doc="keep an exponential moving average of the weights"),
        "amp": Field(bool, False, doc="automatic mixed precision (GPU)"),
        "amp_level": Field(str, "O1", choices=("O1", "O2")),
        "mixup": {
            "start_iter": Field(int, None, minimum=0, doc="apply MixUp from this iteration on; null: never"),
            "preset": Field(str, None, choices=("mprnet", "mirnetv2"), doc="ppir.data.mixup preset"),
            "beta": Field(float, None, minimum=0.0, doc="Beta(beta, beta) mixing weights (overrides the preset)"),
            "per_sample": Field(bool, None, doc="one weight per sample (MPRNet) or per batch (MIRNetV2)"),
            "prob": Field(float, None, minimum=0.0, maximum=1.0, doc="probability that a batch is mixed"),
        },
        "progressive": {
            "iters": Field(list, [], items=int, minimum=1, doc="iterations spent in each stage (cumulative boundaries)"),
            "patch_sizes": Field(list, [], items=int, minimum=1, doc="training patch size per stage"),
            "batch_sizes": Field(list, [], items=int, minimum=1, doc="global batch size per stage (<= train.batch_size)"),
        },
    },
    "val": {
        "interval": Field(int, 0, minimum=0, doc="validate every N iterations (0: only at the end)"),
        "datasets": MapOf(EVAL_SET, doc="validation sets by name"),
        "best_metric": Field(str, None, doc="'<set>/<metric>' whose best value keeps weights/best"),
        "best_mode": Field(str, "max", choices=("max", "min")),
        "save_images": Field(int, 2, minimum=0, doc="restored samples saved per set at each validation"),
        "score_input": Field(bool, False, doc="also score the unrestored inputs once, for comparison"),
        "holdout": Field(float, None, minimum=0.0, maximum=0.5,
                         doc="no val.datasets: validate on this share of the training pairs (by name, at least one), "
                             "never trained on"),
        "report": Field(bool, False, doc="after training: report/ (per_image.csv, index.html) of the best weights on the val sets"),
    },
    "test": {
        "datasets": MapOf(EVAL_SET, doc="benchmark sets scored by --evaluate-only"),
        "save_images": Field(bool, False, doc="write every restored image (also --save-images)"),
    },
    "checkpoint": {
        "interval": Field(int, 1000, minimum=0, doc="write a resumable checkpoint every N iterations (0: only at the end)"),
        "keep_last": Field(int, 3, minimum=1, doc="how many checkpoints to keep"),
    },
    "log": {
        "interval": Field(int, 20, minimum=1, doc="iterations between train.log lines"),
        "enable_visualdl": Field(bool, False, doc="write VisualDL scalars and images"),
        "progress_bar": Field(bool, True, doc="tqdm bar on the terminal"),
    },
}
