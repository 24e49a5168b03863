"""nn.utils.stateless.functional_call against torch: its FutureWarning, the replaced parameters and buffers, the
arguments' forms, strict key checking and the DataParallel error."""
import warnings

import numpy
import pytest
import torch
import torch.nn.utils.stateless as torch_stateless

import ember
import ember.nn.utils.stateless as ember_stateless

STATELESS = {ember: ember_stateless, torch: torch_stateless}


class Scaled:
    """A module ``(x @ weight.T + bias) * scale + offset`` (kwarg), with ``scale`` a buffer, in either library."""

    @staticmethod
    def make(lib):
        class Module(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.linear = lib.nn.Linear(3, 2)
                self.register_buffer("scale", lib.tensor(2.0))

            def forward(self, x, offset=0.0):
                return self.linear(x) * self.scale + offset
        module = Module()
        with lib.no_grad():
            module.linear.weight.copy_(lib.tensor(numpy.arange(6, dtype=numpy.float32).reshape(2, 3) / 10))
            module.linear.bias.fill_(0.5)
        return module


def call(lib, replacements, *args, **kwargs):
    module = Scaled.make(lib)
    before = {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}
    tensors = {k: lib.tensor(v) for k, v in replacements.items()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = STATELESS[lib].functional_call(module, tensors, *args, **kwargs)
    after = {k: v.detach().numpy() for k, v in module.state_dict().items()}
    assert list(before) == list(after) and all((before[k] == after[k]).all() for k in before)
    return out, caught


def test_functional_call_warns_as_torch_and_replaces_tensors():
    weight = numpy.ones((2, 3), numpy.float32)
    x = numpy.array([[1.0, 2.0, 3.0]], numpy.float32)
    for replacements, args, kwargs in [({"linear.weight": weight}, (x,), {}),
                                       ({"linear.weight": weight, "scale": numpy.float32(3)}, ((x,),), {}),
                                       ({"linear.bias": numpy.zeros(2, numpy.float32)}, ((x,), {"offset": 1.0}), {}),
                                       ({}, (), {"args": x, "kwargs": {"offset": -1.0}})]:
        results = {}
        for lib in (ember, torch):
            args_lib = tuple(tuple(lib.tensor(a) for a in arg) if isinstance(arg, tuple) else
                             (lib.tensor(arg) if isinstance(arg, numpy.ndarray) else arg) for arg in args)
            kwargs_lib = {k: lib.tensor(v) if isinstance(v, numpy.ndarray) else v for k, v in kwargs.items()}
            results[lib] = call(lib, replacements, *args_lib, **kwargs_lib)
        (e_out, e_warnings), (t_out, t_warnings) = results[ember], results[torch]
        numpy.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-6)
        assert [(w.category, str(w.message)) for w in e_warnings] == [(w.category, str(w.message)) for w in t_warnings]
        assert len(e_warnings) == 1 and e_warnings[0].category is FutureWarning
        assert e_warnings[0].filename == __file__   # attributed to the caller, as typing_extensions.deprecated does
    assert ember_stateless.functional_call.__deprecated__ == torch_stateless.functional_call.__deprecated__
    assert ember_stateless.__all__ == torch_stateless.__all__ == ["functional_call"]


def test_gradients_flow_to_the_given_tensors():
    x = numpy.array([[1.0, -2.0, 0.5]], numpy.float32)
    grads = []
    for lib in (ember, torch):
        weight = lib.tensor(numpy.full((2, 3), 0.3, numpy.float32), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            out = STATELESS[lib].functional_call(Scaled.make(lib), {"linear.weight": weight}, lib.tensor(x))
        out.sum().backward()
        grads.append(weight.grad.numpy())
    numpy.testing.assert_allclose(*grads)


def test_strict_and_data_parallel_errors():
    for lib in (torch, ember):
        module = Scaled.make(lib)
        with pytest.warns(FutureWarning), pytest.raises(RuntimeError) as error:
            STATELESS[lib].functional_call(module, {"linear.weight": lib.ones(2, 3), "extra": lib.ones(1)},
                                           lib.ones(1, 3), strict=True)
        assert str(error.value) == ("Error(s) in reparametrizing for Module:\n\tUnexpected key(s): 'extra'.\n\t"
                                    "Missing key(s): 'linear.bias', 'scale'.")
        with pytest.warns(FutureWarning), pytest.raises(RuntimeError,
                                                        match="The stateless API can't be used with nn.DataParallel"):
            STATELESS[lib].functional_call(lib.nn.DataParallel(lib.nn.Linear(3, 2)), {}, lib.ones(1, 3))


def test_module_namespace():
    import ember.nn
    assert ember.nn.utils.stateless is ember_stateless
    assert ember_stateless.functional_call.__doc__
