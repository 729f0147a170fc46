"""From what a user names (an architecture and a task, or a weights file) to a network with loaded
weights, for any network that meets the contract (``ppir.archs.contract``).

* ``arch``: a registered name (``'MPRNet'``) or a ``build_arch`` config (``{'name': ..., **options}``).
* ``task``: a released model of that network (any case), whose weights are downloaded once when
  no ``weight_path`` is given. Released weights that cannot be fetched by URL (MIRNet v1's sit
  behind Google Drive links) need ``weight_path``; the error says where they are published.
* ``weight_path``: any file ``ppir.weights.load_weights`` reads. The network's options are read
  from the weights' shapes (``config_from_weights``), so other widths load without a config.
"""
import os

from ..archs import build_arch
from ..archs.contract import contract_of
from ..archs.model_index import config_from_weights, network_class, released_model, released_models
from ..errors import ConfigError
from ..utils.download import download_cached
from ..weights import load_weights, read_state_dict
from .weights_fit import PHOTO_CHANNELS, check_task_channels


def resolve(arch, task=None):
    """(base ``build_arch`` config, ``ReleasedModel`` or None) for ``arch`` and ``task``."""
    cls = network_class(arch)
    overrides = dict(arch) if isinstance(arch, dict) else {}
    name = overrides.pop("name") if isinstance(arch, dict) else arch if isinstance(arch, str) else cls.__name__
    release = None
    if task is not None and released_models(cls):
        release = released_model(cls, task)
    base = dict(release.arch) if release is not None else {"name": name}
    return {**base, **overrides}, release


def weights_file(arch_name, release, weight_path):
    """The weights file to load: ``weight_path``, else the release's (downloaded once)."""
    if weight_path is not None:
        return os.fspath(weight_path)
    if release is None:
        tasks = ", ".join(released_models(arch_name))
        hint = f"a task ({tasks}) or " if tasks else ""
        raise ConfigError(f"{arch_name} needs {hint}a weights file (weight_path / --weight_path); "
                          f"ppir never runs random weights")
    if release.url is None:
        raise ConfigError(
            f"the released {arch_name} {release.task} weights ({release.filename}) cannot be downloaded by URL: "
            f"they are published at {release.weights_page}; download the file and pass it as weight_path "
            f"(--weight_path)")
    return download_cached(release.url, filename=release.filename)


def load_network(arch, task=None, weight_path=None):
    """(network in eval mode, its arch config, weights file, ``ReleasedModel`` or None), the
    weights loaded strictly and the network's contract checked."""
    base, release = resolve(arch, task)
    path = weights_file(base["name"], release, weight_path)
    state = read_state_dict(path)
    arch_cfg = {**base, **config_from_weights(base["name"], state)}
    if release is not None:  # 3-channel weights for the two-view defocus task, say: refused now
        check_task_channels(arch_cfg, PHOTO_CHANNELS * release.views, release.task, path)
    net = build_arch(arch_cfg)
    contract_of(net)  # a network that lacks an attribute is named now, not deep in export
    load_weights(net, state, source=path)
    net.eval()
    return net, arch_cfg, path, release
