"""The network contract on ppir's own networks, ``config_from_weights`` round trips, the model index
(released tasks of every family) and its agreement with docs/models.md."""
import os

import numpy as np
import pytest

from ppir.archs import build_arch
from ppir.archs.contract import ContractError, contract_of, final_image
from ppir.archs.model_index import config_from_weights, index, released_model, released_models
from ppir.errors import ConfigError
from ppir.registry import ARCHS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = {
    "MPRNet": {"name": "MPRNet", "n_feat": 12, "scale_unetfeats": 4, "scale_orsnetfeats": 6, "num_cab": 2,
               "reduction": 3, "in_c": 3, "out_c": 3, "kernel_size": 3, "bias": True},
    "MIRNetV2": {"name": "MIRNetV2", "inp_channels": 6, "out_channels": 3, "n_feat": 16, "chan_factor": 1.5,
                 "n_MRB": 1, "bias": False},
    "MIRNet": {"name": "MIRNet", "in_channels": 3, "out_channels": 3, "n_feat": 8, "kernel_size": 3, "n_RRG": 2,
               "n_MSRB": 1, "height": 2, "width": 3, "bias": True},
}


@pytest.mark.parametrize("arch", sorted(SMALL))
def test_every_network_meets_the_contract_and_its_widths_come_back_from_its_weights(arch):
    net = build_arch(SMALL[arch])
    contract = contract_of(net)
    assert contract.in_channels == SMALL[arch].get("inp_channels", 3) and contract.out_channels == 3
    assert contract.size_multiple == {"MPRNet": 8}.get(arch, 4) and contract.scale == 1
    state = {key: value.numpy() for key, value in net.state_dict().items()}
    read = config_from_weights(arch, state)
    assert {**read, "name": arch} == SMALL[arch]
    assert config_from_weights(arch, {"unrelated.weight": np.zeros(3)}) == {}


def test_missing_contract_attributes_are_named():
    class Partial:
        in_channels, out_channels, size_multiple = 3, 3, 0

    with pytest.raises(ContractError, match=r"Partial .*size_multiple \(got 0\), scale"):
        contract_of(Partial)
    assert final_image([1, 2]) == 1 and final_image(5) == 5


def test_the_index_lists_every_released_task():
    assert {arch: list(tasks) for arch, tasks in index().items()} == {
        "MIRNet": ["real_denoising", "enhancement_lol", "enhancement_fivek", "sr_x3", "sr_x4"],
        "MIRNetV2": ["real_denoising", "enhancement_lol", "enhancement_fivek", "sr_x2", "sr_x3", "sr_x4",
                     "defocus_deblurring"],
        "MPRNet": ["Deblurring", "Denoising", "Deraining"],
    }
    assert released_model("MPRNet", "DERAINING").url == "https://paddlegan.bj.bcebos.com/models/MPR_Deraining.pdparams"
    lol = released_model("MIRNet", "Enhancement_LOL")
    assert lol.url is None and "swz30/MIRNet" in lol.weights_page and lol.filename == "model_lol.pth"
    assert released_model("MIRNetV2", "sr_x3").enlarge == 3 and released_model("MIRNet", "sr_x4").enlarge == 4
    with pytest.raises(ConfigError, match="sr_x3, sr_x4"):
        released_model("MIRNet", "sr_x2")  # no x2 was released for v1
    for name in ARCHS.names():
        for task, release in released_models(name).items():
            assert release.task == task and ARCHS.get(release.arch["name"]) is ARCHS.get(name)


def test_task_names_are_case_insensitive_in_configs_for_every_family():
    assert build_arch({"name": "MPRNet", "task": "deraining"}).task == "Deraining"
    defocus = build_arch({"name": "MIRNetV2", "task": "Defocus_Deblurring", "n_feat": 16, "n_MRB": 1})
    assert defocus.task == "defocus_deblurring" and contract_of(defocus).in_channels == 6
    with pytest.raises(ConfigError, match="defocus_deblurring"):
        build_arch({"name": "MIRNetV2", "task": "defocus"})


def test_docs_models_md_gives_every_release_of_the_index():
    text = open(os.path.join(ROOT, "docs", "models.md"), encoding="utf-8").read()
    for tasks in index().values():
        for release in tasks.values():
            assert os.path.basename(release.url or release.filename) in text, release
            for benchmark, numbers, _ in release.published:
                assert numbers in text, (release.task, benchmark)
