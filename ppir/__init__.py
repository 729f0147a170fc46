"""ppir: a PaddlePaddle model zoo for image restoration (MPRNet, MIRNetV2, MIRNet)."""
import warnings

__version__ = "0.1.0"

# Paddle warns on import when ccache (a C++ build cache) is missing. It concerns compiling C++
# extensions, not running models, and would otherwise open the output of every ppir command;
# ppir is imported before Paddle everywhere, so this filter is in place in time.
warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
