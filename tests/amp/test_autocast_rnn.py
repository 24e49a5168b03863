"""Recurrent layers, cells and the functional cells under CPU autocast, beside PyTorch 2.13: nn.LSTM and nn.RNN
run in 16 bits (LSTM as PyTorch's oneDNN layer, RNN through its linear steps), nn.GRU and the LSTM/GRU cells return
float32 (their state update mixes the float32 state in), RNN cells 16-bit; values within half-precision tolerance;
float32 parameters get float32 gradients."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

MODULES = [("LSTM", {"num_layers": 2, "bidirectional": True, "batch_first": True}), ("GRU", {"num_layers": 2}),
           ("RNN", {"num_layers": 2}), ("RNN", {"nonlinearity": "relu"})]


def _pair(name, kwargs, seed=0):
    """The same module in both libraries (ember's gets torch's initial weights)."""
    torch.manual_seed(seed)
    reference = getattr(torch.nn, name)(4, 6, **kwargs)
    module = getattr(ember.nn, name)(4, 6, **kwargs)
    module.load_state_dict({k: ember.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    return module, reference


def _flat(value):
    if isinstance(value, (tuple, list)):
        return [v for item in value for v in _flat(item)]
    return [value]


def _check(got, expected, tolerance=3e-2):
    got, expected = _flat(got), _flat(expected)
    assert [str(g.dtype).split(".")[-1] for g in got] == [str(e.dtype).split(".")[-1] for e in expected]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.float().detach().numpy(), e.float().detach().numpy(), rtol=tolerance,
                                   atol=tolerance)


@pytest.mark.parametrize("dtype_name", ["bfloat16", "float16"])
@pytest.mark.parametrize("name,kwargs", MODULES, ids=[f"{n}-{k}" for n, k in MODULES])
def test_layers_follow_torch(name, kwargs, dtype_name):
    if name == "LSTM" and dtype_name == "float16":
        pytest.skip("PyTorch's oneDNN LSTM has no float16 kernel on this CPU (it raises)")
    module, reference = _pair(name, kwargs)
    x = np.random.default_rng(1).standard_normal((5, 3, 4)).astype(np.float32)
    with torch.autocast("cpu", dtype=getattr(torch, dtype_name)):
        expected = reference(torch.tensor(x))
    with ember.autocast("cpu", dtype=getattr(ember, dtype_name)):
        got = module(ember.tensor(x))
    _check(got, expected)


@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cells_follow_torch(name):
    module, reference = _pair(name, {})
    x, h = (np.random.default_rng(2).standard_normal(shape).astype(np.float32) for shape in ((3, 4), (3, 6)))
    state = (h, h) if name == "LSTMCell" else h
    as_torch = tuple(torch.tensor(s) for s in state) if name == "LSTMCell" else torch.tensor(state)
    as_ember = tuple(ember.tensor(s) for s in state) if name == "LSTMCell" else ember.tensor(state)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = reference(torch.tensor(x), as_torch), reference(torch.tensor(x))
    with ember.autocast("cpu", dtype=ember.bfloat16):
        got = module(ember.tensor(x), as_ember), module(ember.tensor(x))
    _check(got, expected)


@pytest.mark.parametrize("name,gates", [("lstm_cell", 4), ("gru_cell", 3), ("rnn_tanh_cell", 1),
                                        ("rnn_relu_cell", 1)])
def test_functional_cells_follow_torch(name, gates):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in
              ((3, 4), (3, 6), (3, 6), (gates * 6, 4), (gates * 6, 6), (gates * 6,), (gates * 6,))]
    results = []
    for T in (torch, ember):
        x, h, c, w_ih, w_hh, b_ih, b_hh = (T.tensor(a) for a in arrays)
        hx = (h, c) if name == "lstm_cell" else h
        plain = getattr(T, name)(x, hx, w_ih, w_hh, b_ih, b_hh)
        with T.autocast("cpu", dtype=T.bfloat16):
            cast = getattr(T, name)(x, hx, w_ih, w_hh, b_ih, b_hh), getattr(T, name)(x, hx, w_ih, w_hh)
        results.append((plain, cast))
    _check(results[1][0], results[0][0], 1e-5)
    _check(results[1][1], results[0][1])


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_float32_parameters_get_float32_gradients(name):
    grads = []
    for T, (module, reference) in zip((ember, torch), [_pair(name, {})] * 2):
        model = module if T is ember else reference
        x = T.tensor(np.random.default_rng(4).standard_normal((5, 3, 4)).astype(np.float32))
        with T.autocast("cpu", dtype=T.bfloat16):
            output, _ = model(x)
        output.float().pow(2).sum().backward()
        grads.append([p.grad for p in model.parameters()])
    for g, e in zip(*grads):
        assert g.dtype is ember.float32
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=5e-2, atol=5e-2)


HALF_MODULES = [("LSTM", {"num_layers": 2, "bidirectional": True}), ("GRU", {"num_layers": 2, "bidirectional": True}),
                ("RNN", {"num_layers": 2, "bidirectional": True}), ("LSTMCell", {}), ("GRUCell", {}), ("RNNCell", {})]


@pytest.mark.parametrize("dtype_name,convert", [("bfloat16", "bfloat16"), ("float16", "half")])
@pytest.mark.parametrize("name,kwargs", HALF_MODULES, ids=[n for n, _ in HALF_MODULES])
def test_16_bit_modules_follow_torch(name, kwargs, dtype_name, convert):
    """Modules converted to 16 bits (no autocast) return 16-bit outputs and states, and 16-bit input gradients."""
    module, reference = _pair(name, kwargs)
    module, reference = getattr(module, convert)(), getattr(reference, convert)()
    cell = name.endswith("Cell")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4) if cell else (5, 3, 4)).astype(np.float32)
    h = rng.standard_normal((3, 6) if cell else (4, 3, 6)).astype(np.float32)
    results = []
    for T, model in ((ember, module), (torch, reference)):
        dtype = getattr(T, dtype_name)
        inputs = T.tensor(x).to(dtype).requires_grad_()
        state = T.tensor(h).to(dtype)
        outputs = model(inputs), model(inputs, (state, state * 0.5) if "LSTM" in name else state)
        sum(o.float().sum() for o in _flat(outputs)).backward()
        results.append((outputs, inputs.grad))
    _check(*results)
