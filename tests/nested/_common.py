"""Shared helpers for the torch.nested tests: run one expression on PyTorch 2.13 and on ember, compare results
(nested tensors by structure, offsets and values; dense tensors by values), gradients and errors."""
import re

import numpy as np
import torch

import ember


def namespace(lib, seed=0):
    """The names an expression may use, built alike on ``lib`` (torch or ember) from the same numbers."""
    rng = np.random.default_rng(seed)

    def t(*shape, grad=False):
        return lib.tensor(rng.standard_normal(shape), dtype=lib.float64, requires_grad=grad)

    comps = [rng.standard_normal((n, 4)) for n in (2, 3, 1)]
    nt = lib.nested.nested_tensor([lib.tensor(c) for c in comps], layout=lib.jagged, requires_grad=True)
    values_b = lib.tensor(rng.standard_normal((6, 4)), requires_grad=True)
    nt_b = lib.nested.nested_tensor_from_jagged(values_b, nt.offsets())   # the same ragged size as nt
    heads = lib.tensor(rng.standard_normal((9, 2, 4)), requires_grad=True)
    offsets = lib.tensor([0, 2, 6, 9])
    q4 = lib.nested.nested_tensor_from_jagged(heads, offsets)   # (B, j, H, D)
    other = lib.nested.nested_tensor([lib.tensor(c) for c in comps], layout=lib.jagged)   # another ragged size
    holes = lib.nested.nested_tensor_from_jagged(lib.tensor(rng.standard_normal((7, 4))), lib.tensor([0, 2, 3, 6]),
                                                 lib.tensor([1, 1, 2]))   # components with gaps between them
    ints = lib.nested.nested_tensor([lib.tensor([1, 2]), lib.tensor([0]), lib.tensor([2, 2, 1])], layout=lib.jagged)
    return {"torch": lib, "F": lib.nn.functional, "nt": nt, "nt_b": nt_b, "values_b": values_b, "q4": q4,
            "heads": heads, "holes": holes, "other": other, "ints": ints, "d": t(4), "dB": t(3, 1, 4), "d1": t(1, 4),
            "d14": t(1, 1, 4),
            "dbad": t(3, 4), "w": t(5, 4, grad=True), "bias": t(5, grad=True), "emb": t(3, 4, grad=True),
            "dB11": t(3, 1, 1), "mat": t(4, 5), "bmat": t(3, 4, 5), "ln_w": t(4, grad=True), "ln_b": t(4, grad=True)}


def _normalize(text):
    text = re.sub(r"0x[0-9a-f]+", "0x", str(text))
    return re.sub(r"\bj\d+", "j", text).replace("ember.", "torch.")


def _weights(shape):
    n = int(np.prod(shape)) if shape else 1
    return np.sin(np.arange(n) * 0.7 + 0.3).reshape(shape)


def _structure(nt):
    return _normalize(nt.shape), nt._ragged_idx, nt.offsets().tolist(), \
        None if nt.lengths() is None else nt.lengths().tolist()


def compare(ours, theirs, atol=1e-6):
    """Asserts ember's result ``ours`` matches torch's ``theirs``."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            compare(a, b, atol)
        return
    if isinstance(theirs, torch.Tensor) and theirs.is_nested:
        assert isinstance(ours, ember.Tensor) and ours.is_nested, f"expected a nested tensor, got {type(ours)}"
        assert _structure(ours) == _structure(theirs)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_allclose(ours.values().detach().numpy(), theirs.values().detach().numpy(), atol=atol)
        return
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ember.Tensor) and not ours.is_nested, f"expected a dense tensor, got {ours!r}"
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=atol)
        return
    assert _normalize(ours) == _normalize(theirs)


def _run(expression, lib):
    names = namespace(lib)
    try:
        return names, eval(expression, {}, names), None
    except Exception as error:   # noqa: BLE001 (compared with torch's below)
        return names, None, error


def _backward(result, lib):
    """Backpropagates a fixed weighting of ``result``'s float values."""
    parts = result if isinstance(result, (tuple, list)) else [result]
    total = None
    for part in parts:
        if not isinstance(part, lib.Tensor) or not part.requires_grad:
            continue
        data = part.values() if part.is_nested else part
        term = (data * lib.tensor(_weights(tuple(data.shape)), dtype=data.dtype)).sum()
        total = term if total is None else total + term
    if total is not None:
        total.backward()
    return total is not None


GRAD_NAMES = ("nt", "values_b", "heads", "w", "bias", "emb", "ln_w", "ln_b")


def check(expression, atol=1e-6, grads=True):
    """Evaluates ``expression`` on both libraries and compares values, errors and the inputs' gradients."""
    torch_names, theirs, their_error = _run(expression, torch)
    ember_names, ours, our_error = _run(expression, ember)
    if their_error is not None:
        assert our_error is not None, f"torch raised {their_error!r}, ember returned {ours!r}"
        assert type(our_error).__name__ == type(their_error).__name__, (our_error, their_error)
        assert _normalize(our_error).split("\n")[0] == _normalize(their_error).split("\n")[0]
        return
    assert our_error is None, f"ember raised {our_error!r}; torch returned {theirs!r}"
    compare(ours, theirs, atol)
    try:
        backpropagated = grads and _backward(theirs, torch)
    except (NotImplementedError, RuntimeError, ValueError):   # PyTorch's NJT lacks this op's backward: values only
        backpropagated = False
    if backpropagated:
        assert _backward(ours, ember)
        for name in GRAD_NAMES:
            their_grad, our_grad = torch_names[name].grad, ember_names[name].grad
            if their_grad is None:
                assert our_grad is None or not our_grad.abs().sum(), name
            else:
                assert our_grad is not None, name
                compare(our_grad, their_grad, atol)
