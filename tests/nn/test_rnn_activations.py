"""The recurrent layers' gate activations (LSTM: one tanh over all four gates, the sigmoid gates' weights halved; GRU:
the r and z weights negated) against torch where the gates saturate: large weights and inputs push the
pre-activations to +-30, where sigmoid(x) is within float32's rounding of 0 or 1. Outputs, final states and every
gradient, training (general path) and evaluation (no_grad fast paths), float32 and float64, batch 1 and 3."""
import numpy
import pytest
import torch

import ember
from ember import nn
from tests.oracle import assert_same


def _pair(kind, dtype, **config):
    torch.manual_seed(0)
    t = getattr(torch.nn, kind)(5, 16, dtype=getattr(torch, dtype), **config)
    with torch.no_grad():
        for p in t.parameters():
            p.mul_(6)   # weights up to 6 / sqrt(16): saturated gates
    e = getattr(nn, kind)(5, 16, dtype=getattr(ember, dtype), **config)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return t, e


def _same_grad(e, t, tol, path):
    """Gradients through saturated gates are sums of large terms: their float32 rounding (one BLAS's summation
    order against another's) scales with the largest entry, so the absolute tolerance does too."""
    scale = max(1.0, float(t.detach().abs().max())) if t is not None and t.numel() else 1.0
    assert_same(e, t, tol, tol * scale, path=path)


def _run(lib, module, x, state):
    leaf = lib.tensor(x).requires_grad_(True)
    initial = None if state is None else tuple(lib.tensor(s).requires_grad_(True) for s in state)
    out, final = module(leaf, None if initial is None else (initial if len(initial) == 2 else initial[0]))
    final = final if isinstance(final, tuple) else (final,)
    return leaf, initial, [out, *final]


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("config, with_state", [({}, False), ({"num_layers": 2, "bidirectional": True}, True),
                                                ({"batch_first": True, "num_layers": 2}, True)])
def test_saturated_gates_match_torch(kind, dtype, batch, config, with_state):
    tol = 2e-5 if dtype == "float32" else 1e-10
    t, e = _pair(kind, dtype, **config)
    rng = numpy.random.default_rng(1)
    steps = 7
    x = (rng.standard_normal((batch, steps, 5) if config.get("batch_first") else (steps, batch, 5)) * 3).astype(dtype)
    layers = config.get("num_layers", 1) * (2 if config.get("bidirectional") else 1)
    state = None
    if with_state:
        state = [rng.standard_normal((layers, batch, 16)).astype(dtype) for _ in range(2 if kind == "LSTM" else 1)]
    with torch.no_grad():
        t_eval = t(torch.tensor(x), None if state is None else
                   (tuple(map(torch.tensor, state)) if kind == "LSTM" else torch.tensor(state[0])))
    with ember.no_grad():
        e_eval = e(ember.tensor(x), None if state is None else
                   (tuple(map(ember.tensor, state)) if kind == "LSTM" else ember.tensor(state[0])))
    assert_same(e_eval[0], t_eval[0], tol, tol, path="eval output")
    t_leaf, t_init, t_outs = _run(torch, t, x, state)
    e_leaf, e_init, e_outs = _run(ember, e, x, state)
    weights = [rng.standard_normal(tuple(o.shape)).astype(dtype) for o in t_outs]
    for i, (eo, to) in enumerate(zip(e_outs, t_outs)):
        assert_same(eo, to, tol, tol, path=f"output[{i}]")
    sum((o * torch.tensor(w)).sum() for o, w in zip(t_outs, weights)).backward()
    sum((o * ember.tensor(w)).sum() for o, w in zip(e_outs, weights)).backward()
    _same_grad(e_leaf.grad, t_leaf.grad, tol, path="input.grad")
    for i, (ei, ti) in enumerate(zip(e_init or (), t_init or ())):
        _same_grad(ei.grad, ti.grad, tol, path=f"state[{i}].grad")
    e_params = dict(e.named_parameters())
    for name, tp in t.named_parameters():
        _same_grad(e_params[name].grad, tp.grad, tol, path=f"{name}.grad")


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported:UserWarning")
@pytest.mark.parametrize("kind, config", [("LSTM", {"proj_size": 6}), ("LSTM", {"bidirectional": True}),
                                          ("GRU", {"bidirectional": True, "num_layers": 2})])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_saturated_gates_over_packed_sequences_match_torch(kind, config, dtype):
    tol = 2e-5 if dtype == "float32" else 1e-10
    t, e = _pair(kind, dtype, **config)
    lengths = [3, 7, 1, 5]
    x = (numpy.random.default_rng(2).standard_normal((7, 4, 5)) * 3).astype(dtype)
    results = []
    for lib, module in ((torch, t), (ember, e)):
        leaf = lib.tensor(x).requires_grad_(True)
        utils = lib.nn.utils.rnn
        packed = utils.pack_padded_sequence(leaf, lib.tensor(lengths), enforce_sorted=False)
        out, final = module(packed)
        final = final if isinstance(final, tuple) else (final,)
        outs = [out.data, *final]
        sum((o * (k + 1)).sum() for k, o in enumerate(outs)).backward()
        results.append((outs, leaf.grad, {n: p.grad for n, p in module.named_parameters()}))
    (t_outs, t_grad, t_params), (e_outs, e_grad, e_params) = results
    for i, (eo, to) in enumerate(zip(e_outs, t_outs)):
        assert_same(eo, to, tol, tol, path=f"output[{i}]")
    _same_grad(e_grad, t_grad, tol, path="input.grad")
    for name, grad in t_params.items():
        _same_grad(e_params[name], grad, tol, path=f"{name}.grad")
