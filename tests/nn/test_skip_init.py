"""``nn.utils.skip_init`` against torch: no random numbers drawn, parameters and buffers of the right shape, dtype,
device and kind (uninitialised values), constructor arguments passed through, errors."""
import numpy
import pytest
import torch

import ember


@pytest.mark.parametrize("cls,args,kwargs", [("Linear", (5, 3), {"dtype": "float64"}),
                                             ("Linear", (), {"in_features": 6, "out_features": 1, "bias": False}),
                                             ("Conv2d", (2, 4, 3), {}), ("BatchNorm1d", (4,), {}),
                                             ("Embedding", (7, 3), {"padding_idx": 0, "device": "cpu"}),
                                             ("GRUCell", (3, 4), {}), ("LayerNorm", ((2, 3),), {}),
                                             ("MultiheadAttention", (8, 2), {"kdim": 4}),
                                             ("LinearCrossEntropyLoss", (4, 6), {"bias": True})])
def test_structure_and_no_draws(cls, args, kwargs):
    made = []
    for lib in (ember, torch):
        options = {k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}
        lib.manual_seed(3)
        module = lib.nn.utils.skip_init(getattr(lib.nn, cls), *args, **options)
        made.append((module, lib.rand(3).numpy()))   # the generator is where the seed left it
    (mine, after_mine), (theirs, after_theirs) = made
    numpy.testing.assert_array_equal(after_mine, after_theirs)
    numpy.testing.assert_array_equal(after_mine, (ember.manual_seed(3), ember.rand(3))[1].numpy())
    assert list(mine.state_dict()) == list(theirs.state_dict())
    for (name, p), (_, q) in zip(mine.named_parameters(), theirs.named_parameters(), strict=True):
        assert isinstance(p, ember.nn.Parameter) and p.requires_grad and p.is_leaf and p.grad_fn is None, name
        assert tuple(p.shape) == tuple(q.shape) and str(p.dtype)[-8:] == str(q.dtype)[-8:] and p.device.type == "cpu"
    for (name, b), (_, c) in zip(mine.named_buffers(), theirs.named_buffers(), strict=True):
        assert tuple(b.shape) == tuple(c.shape) and str(b.dtype)[-6:] == str(c.dtype)[-6:], name
    assert mine.training == theirs.training
    assert repr(mine) == repr(theirs).replace("torch.", "ember.")


def test_custom_init_after_skip_init_matches_torch():
    x = numpy.random.default_rng(0).standard_normal((4, 5)).astype(numpy.float32)
    outs = []
    for lib in (ember, torch):
        module = lib.nn.utils.skip_init(lib.nn.Linear, 5, 2)
        with lib.no_grad():
            module.weight.copy_(lib.arange(10.0).reshape(2, 5) / 10)
            module.bias.fill_(0.5)
        outs.append(module(lib.tensor(x)).detach().numpy())
    numpy.testing.assert_allclose(outs[0], outs[1], rtol=1e-6)


def test_own_module_and_errors():
    for lib in (ember, torch):
        class Holder(lib.nn.Module):
            def __init__(self, n, device=None):
                super().__init__()
                self.weight = lib.nn.Parameter(lib.ones(n, device=device))
                self.register_buffer("count", lib.zeros(n, dtype=lib.int32, device=device))
                self.label = "kept"
        held = lib.nn.utils.skip_init(Holder, 3)
        assert held.label == "kept" and tuple(held.weight.shape) == (3,) and held.count.dtype == lib.int32
        for cls in (lib.nn.ReLU, lib.nn.LSTM):   # LSTM takes (*args, **kwargs): no 'device' in its signature
            with pytest.raises(RuntimeError, match="^Module must support a 'device' arg to skip initialization$"):
                lib.nn.utils.skip_init(cls, 3, 4)
        with pytest.raises(RuntimeError, match="^Expected a Module; got <class 'int'>$"):
            lib.nn.utils.skip_init(int)
        with pytest.raises(TypeError, match="issubclass"):
            lib.nn.utils.skip_init(3)
        with pytest.raises(TypeError):
            lib.nn.utils.skip_init(lib.nn.Linear, 3)
    assert ember.nn.utils.skip_init.__module__ == "ember.nn.utils.init"
