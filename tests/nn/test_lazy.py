"""Lazy modules against torch: shapes inferred on the first forward, the class switch, state_dict round trips,
optimizers created before materialisation, and errors."""
import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same

LAZY = [("LazyLinear", (4,), (2, 3)), ("LazyConv1d", (4, 3), (2, 3, 9)), ("LazyConv2d", (4, 3), (2, 3, 7, 7)),
        ("LazyConv3d", (4, 2), (1, 3, 5, 5, 5)), ("LazyConvTranspose1d", (4, 3), (2, 3, 6)),
        ("LazyConvTranspose2d", (4, 3), (2, 3, 5, 5)), ("LazyConvTranspose3d", (4, 2), (1, 3, 4, 4, 4)),
        ("LazyBatchNorm1d", (), (4, 3)), ("LazyBatchNorm2d", (), (2, 3, 4, 4)),
        ("LazyBatchNorm3d", (), (2, 3, 2, 2, 2)),
        ("LazyInstanceNorm1d", (), (2, 3, 6)), ("LazyInstanceNorm2d", (), (2, 3, 4, 4)),
        ("LazyInstanceNorm3d", (), (2, 3, 2, 3, 2))]


def _copy_state(t_module, e_module):
    e_module.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t_module.state_dict().items()})


@pytest.mark.parametrize("name,args,shape", LAZY, ids=[c[0] for c in LAZY])
def test_first_forward_materialises_and_becomes_the_regular_class(name, args, shape):
    e_module, t_module = getattr(ember.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert e_module.has_uninitialized_params() and t_module.has_uninitialized_params()
    assert list(e_module.state_dict()) == list(t_module.state_dict())
    x = numpy.random.default_rng(0).standard_normal(shape).astype(numpy.float32)
    t_out = t_module(torch.tensor(x))
    e_module(ember.tensor(x))
    assert type(e_module).__name__ == type(t_module).__name__ == name[4:]
    for (en, ev), (tn, tv) in zip(e_module.state_dict().items(), t_module.state_dict().items()):
        assert en == tn and tuple(ev.shape) == tuple(tv.shape) and str(ev.dtype)[6:] == str(tv.dtype)[6:]
    _copy_state(t_module, e_module)
    assert_same(e_module(ember.tensor(x)), t_module(torch.tensor(x)), rtol=1e-4, atol=1e-5)
    assert repr(e_module) == repr(t_module)
    del t_out


@pytest.mark.parametrize("name,args,shape", LAZY, ids=[c[0] for c in LAZY])
def test_lazy_classes_are_instances_of_what_torch_says(name, args, shape):
    """A lazy norm is a _BatchNorm/_InstanceNorm but no BatchNorm2d until it becomes one; lazy convs and LazyLinear
    are their eager classes from the start (MONAI tells norms by isinstance)."""
    def kinships(lib):
        module = getattr(lib.nn, name)(*args)
        eager = getattr(lib.nn, name[4:])
        before = ([c.__name__ for c in type(module).__mro__], isinstance(module, eager))
        module(lib.zeros(shape))
        return before, isinstance(module, eager)
    assert kinships(ember) == kinships(torch)


def test_uninitialized_parameters_and_their_errors():
    layer = ember.nn.LazyLinear(3)
    assert isinstance(layer.weight, ember.nn.UninitializedParameter) and isinstance(layer.weight, ember.nn.Parameter)
    assert repr(layer.weight) == "<UninitializedParameter>" and repr(ember.nn.UninitializedBuffer()) == \
        "<UninitializedBuffer>"
    with pytest.raises(RuntimeError) as expected:
        torch.nn.LazyLinear(3).weight.shape
    with pytest.raises(RuntimeError) as got:
        layer.weight.shape
    assert str(got.value) == str(expected.value)
    assert repr(layer) == repr(torch.nn.LazyLinear(3))
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d"):
        ember.nn.LazyConv2d(2, 3)(ember.ones(3, 3))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        ember.nn.LazyConv1d(4, 3, groups=2)(ember.ones(1, 3, 8))


def test_optimizer_created_before_materialisation_trains_the_same_parameters():
    results = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.LazyLinear(4), lib.nn.ReLU(), lib.nn.LazyLinear(1))
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
        x = lib.tensor(numpy.linspace(-1, 1, 15).reshape(5, 3).astype(numpy.float32))
        model(x)   # dry run
        results.append((model, optimizer, x))
    (t_model, t_opt, t_x), (e_model, e_opt, e_x) = results[1], results[0]
    _copy_state(t_model, e_model)
    for model, opt, x in ((e_model, e_opt, e_x), (t_model, t_opt, t_x)):
        assert opt.param_groups[0]["params"][0] is model[0].weight
        for _ in range(3):
            opt.zero_grad()
            model(x).pow(2).sum().backward()
            opt.step()
    for e, t in zip(e_model.parameters(), t_model.parameters()):
        assert_same(e, t, rtol=1e-4, atol=1e-5)


def test_load_state_dict_materialises_and_uninitialized_states_load_into_lazy_modules():
    source = ember.nn.Linear(3, 4)
    lazy = ember.nn.LazyLinear(4)
    lazy.load_state_dict(source.state_dict())
    assert type(lazy).__name__ == "LazyLinear" and tuple(lazy.weight.shape) == (4, 3)
    numpy.testing.assert_array_equal(lazy.weight.detach().numpy(), source.weight.detach().numpy())
    assert type(lazy.weight) is ember.nn.Parameter
    lazy(ember.ones(2, 3))
    assert type(lazy).__name__ == "Linear"
    numpy.testing.assert_array_equal(lazy.weight.detach().numpy(), source.weight.detach().numpy())
    still_lazy = ember.nn.LazyLinear(4)
    still_lazy.load_state_dict(ember.nn.LazyLinear(4).state_dict())
    assert still_lazy.has_uninitialized_params()
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        ember.nn.Linear(3, 4).load_state_dict(ember.nn.LazyLinear(4).state_dict())
