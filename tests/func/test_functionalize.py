"""func.functionalize run eagerly beside PyTorch's: values, which inputs are mutated, which outputs alias inputs,
gradients, and the error for a bad ``remove``."""
import pytest
import torch

import ember

MODES = ["mutations", "mutations_and_views"]

CASES = {
    "view of the input": lambda x: x.view(-1),
    "mutated input returned": lambda x: x.add_(1),
    "view of a mutated slice": lambda x: x[1:].add_(1),
    "fresh result of a mutated temporary": lambda x: (x * 2).add_(1),
    "tuple of view and input": lambda x: (x.t(), x.mul_(3)),
    "dict of results": lambda x: {"sum": x.sum(), "row": x[0]},
}


def _run(library, name, mode):
    """Input after the call, outputs, whether each output aliases the input, and the outputs after writing 7 into
    every output (which reaches the input only through an alias)."""
    x = library.arange(6.0).reshape(2, 3)
    outputs = library.func.functionalize(CASES[name], remove=mode)(x)
    flat = list(outputs.values()) if isinstance(outputs, dict) else list(outputs) if isinstance(outputs, tuple) \
        else [outputs]
    values = [o.tolist() for o in flat]
    aliased = [o is x or o.untyped_storage().data_ptr() == x.untyped_storage().data_ptr() for o in flat]
    after = x.tolist()
    for o in flat:
        if o.dim():
            o.fill_(7)
    return after, values, aliased, x.tolist()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", CASES)
def test_as_pytorch(name, mode):
    assert _run(ember, name, mode) == _run(torch, name, mode)


@pytest.mark.parametrize("mode", MODES)
def test_gradients_flow(mode):
    grads = []
    for library in (ember, torch):
        x = library.tensor([0.5, 1.0], requires_grad=True)
        y = library.func.functionalize(lambda t: (t * 2).sin_(), remove=mode)(x)
        y.sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == pytest.approx(grads[1])


def test_bad_mode_and_debug_unwrap():
    messages = []
    for library in (ember, torch):
        with pytest.raises(RuntimeError) as error:
            library.func.functionalize(lambda x: x, remove="views")
        messages.append(str(error.value))
    assert messages[0] == messages[1]
    t = ember.ones(2)
    assert ember.func.debug_unwrap(t) is t and ember.func.debug_unwrap(t, recurse=False) is t
