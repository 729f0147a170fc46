"""ppir: a PaddlePaddle model zoo for image restoration (MPRNet, MIRNetV2, MIRNet)."""
import os
import sys
import warnings

__version__ = "0.1.0"

# Importing Paddle sets OMP_NUM_THREADS=1 when it is unset, so what the user (or a launcher)
# asked for must be read before that happens; None: not set, or Paddle was imported first.
REQUESTED_OMP_THREADS = None if "paddle" in sys.modules else os.environ.get("OMP_NUM_THREADS")

# Paddle warns on import when ccache (a C++ build cache) is missing. It concerns compiling C++
# extensions, not running models, and would otherwise open the output of every ppir command;
# ppir is imported before Paddle everywhere, so this filter is in place in time.
warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
