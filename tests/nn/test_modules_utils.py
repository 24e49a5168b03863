"""``nn.modules.utils`` (the helpers custom layers import), ``utils.model_zoo`` and the backend switch modules,
beside torch's."""
import collections

import pytest
import torch
import torch.nn.modules.utils as torch_utils

import ember
import ember.nn.modules.utils as ember_utils
import ember.utils.model_zoo


@pytest.mark.parametrize("name", ["_single", "_pair", "_triple", "_quadruple"])
@pytest.mark.parametrize("value", [3, (1, 2), [4, 5, 6], "ab", range(3)])
def test_ntuples(name, value):
    assert getattr(ember_utils, name)(value) == getattr(torch_utils, name)(value)
    assert getattr(ember_utils, name).__name__ == getattr(torch_utils, name).__name__


def test_reverse_repeat_and_list_with_default():
    assert ember_utils._reverse_repeat_tuple((1, 2, 3), 2) == torch_utils._reverse_repeat_tuple((1, 2, 3), 2)
    for size in ([None, 3], [7, None], 5):
        assert ember_utils._list_with_default(size, [1, 2, 5, 6]) == torch_utils._list_with_default(size, [1, 2, 5, 6])
    for lib in (ember_utils, torch_utils):
        with pytest.raises(ValueError, match="Input dimension should be at least 3"):
            lib._list_with_default([None, 3], [1, 2])


def test_consume_prefix_in_state_dict_if_present():
    def state(lib):
        model = lib.nn.DataParallel(lib.nn.Sequential(lib.nn.Linear(2, 2)))
        return model.state_dict()
    e, t = state(ember), state(torch)
    ember_utils.consume_prefix_in_state_dict_if_present(e, "module.")
    torch_utils.consume_prefix_in_state_dict_if_present(t, "module.")
    assert list(e) == list(t) == ["0.weight", "0.bias"]
    if hasattr(t, "_metadata"):
        assert hasattr(e, "_metadata") and sorted(e._metadata) == sorted(t._metadata)
    plain = collections.OrderedDict(a=1, b=2)
    ember_utils.consume_prefix_in_state_dict_if_present(plain, "module.")
    assert list(plain) == ["a", "b"]


def test_model_zoo_is_hubs_loader():
    assert ember.utils.model_zoo.load_url is ember.hub.load_state_dict_from_url


def test_backend_switch_modules():
    for lib in (ember, torch):
        with lib.backends.cudnn.flags(enabled=False, deterministic=True):
            assert lib.backends.cudnn.enabled is False and lib.backends.cudnn.deterministic is True
        assert lib.backends.cudnn.enabled is True and lib.backends.cudnn.deterministic is False
        with lib.backends.mkldnn.verbose(lib.backends.mkldnn.VERBOSE_OFF):
            with lib.backends.mkl.verbose(lib.backends.mkl.VERBOSE_OFF):
                pass
    with ember.backends.mkldnn.flags(enabled=False):   # torch's flags() warns about Intel GPUs' TF32 here
        assert ember.backends.mkldnn.enabled is False
    assert ember.backends.mkldnn.enabled is True
    assert not any(m.is_available() for m in (ember.backends.mkldnn, ember.backends.mkl, ember.backends.openmp))
