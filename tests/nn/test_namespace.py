"""ember.nn's namespace holds what torch.nn's does: nn.attention is the attention package (sdpa_kernel), and the
submodules of nn.modules are not bound in nn itself."""
import types

import torch

import ember


def test_nn_attention_is_the_attention_package():
    assert ember.nn.attention.sdpa_kernel is not None and int(ember.nn.attention.SDPBackend.MATH) == 0
    assert ember.nn.attention.__name__ == "ember.nn.attention"


def test_no_submodule_of_nn_modules_leaks_into_nn():
    ours = {n for n, v in vars(ember.nn).items() if isinstance(v, types.ModuleType) and not n.startswith("_")}
    theirs = {n for n, v in vars(torch.nn).items() if isinstance(v, types.ModuleType)}
    assert ours <= theirs, ours - theirs
