"""The deprecated ``nn.Container`` against torch: its FutureWarning (text, category, caller's line) when made and when
subclassed but not when a subclass is made, its submodules, state_dict, repr and errors."""
import copy
import warnings

import pytest
import torch

import ember

MESSAGE = ("`nn.Container` is deprecated. All of its functionality is now implemented in `nn.Module`. "
           "Subclass that instead.")


def _caught(action):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = action()
    return result, [(w.category, str(w.message), w.filename) for w in caught]


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_warns_as_torch(lib):
    made, warned = _caught(lambda: lib.nn.Container(first=lib.nn.Linear(2, 3), second=lib.nn.ReLU()))
    assert warned == [(FutureWarning, MESSAGE, __file__)]
    assert list(dict(made.named_children())) == ["first", "second"]
    assert list(made.state_dict()) == ["first.weight", "first.bias"]
    assert lib.nn.Container.__deprecated__ == MESSAGE

    def subclass():
        class Holder(lib.nn.Container):
            def forward(self, x):
                return self.inner(x)
        return Holder
    holder, warned = _caught(subclass)
    assert warned == [(FutureWarning, MESSAGE, __file__)]
    instance, warned = _caught(lambda: holder(inner=lib.nn.Identity()))
    assert warned == [] and instance(lib.ones(2)).tolist() == [1.0, 1.0]
    _, warned = _caught(lambda: copy.deepcopy(made))
    assert [w[:2] for w in warned] == [(FutureWarning, MESSAGE)]   # the copy makes one through __new__ too


def test_repr_and_errors_match_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        mine = ember.nn.Container(a=ember.nn.Linear(2, 3), b=ember.nn.Tanh())
        theirs = torch.nn.Container(a=torch.nn.Linear(2, 3), b=torch.nn.Tanh())
        assert repr(mine) == repr(theirs)
        assert repr(ember.nn.Container()) == repr(torch.nn.Container()) == "Container()"
        for bad in ((1,), {"a": 3}):
            errors = []
            for lib in (ember, torch):
                with pytest.raises(TypeError) as error:
                    lib.nn.Container(*bad) if isinstance(bad, tuple) else lib.nn.Container(**bad)
                errors.append(str(error.value))
            assert errors[0] == errors[1]
