"""Recurrent cells and nn.GRU with a 16-bit input (so a 16-bit state) and float32 weights under CPU autocast, beside
PyTorch 2.13: PyTorch's composites cast only the products, so the whole step runs in the state's 16-bit dtype, or
in float32 for a float16 state under bfloat16 autocast (ember refused the float32 hidden weight); output dtypes,
values within 16-bit tolerance, float32 weight gradients."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

CELLS = ["RNNCell", "GRUCell", "LSTMCell"]


def _pair(name, **kwargs):
    """The same module in both libraries (ember's gets torch's initial weights)."""
    torch.manual_seed(0)
    reference = getattr(torch.nn, name)(3, 5, **kwargs)
    module = getattr(ember.nn, name)(3, 5, **kwargs)
    module.load_state_dict({k: ember.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    return module, reference


def _flat(value):
    if isinstance(value, (tuple, list)):
        return [v for item in value for v in _flat(item)]
    return [value]


def _run(lib, module, x, state, dtype_name, input_dtype, state_dtype):
    """The outputs under autocast, then the weights' gradients of their float32 sum."""
    dtype = getattr(lib, dtype_name)
    args = (lib.tensor(x).to(getattr(lib, input_dtype)),)
    if state is not None:
        parts = tuple(lib.tensor(s).to(getattr(lib, state_dtype)) for s in state)
        args += (parts if len(parts) == 2 else parts[0],)
    with lib.autocast("cpu", dtype=dtype):
        outputs = _flat(module(*args))
    sum(o.float().sum() for o in outputs).backward()
    grads = [p.grad for _, p in sorted(module.named_parameters())]
    return outputs, grads


def _check(name, kwargs, x, state, dtype_name, input_dtype, state_dtype=None):
    module, reference = _pair(name, **kwargs)
    got = _run(ember, module, x, state, dtype_name, input_dtype, state_dtype)
    expected = _run(torch, reference, x, state, dtype_name, input_dtype, state_dtype)
    for mine, theirs in zip(got, expected):
        assert [str(g.dtype).split(".")[-1] for g in mine] == [str(e.dtype).split(".")[-1] for e in theirs]
        for g, e in zip(mine, theirs):
            scale = max(1.0, float(e.float().abs().max()))
            np.testing.assert_allclose(g.float().detach().numpy(), e.float().detach().numpy(), rtol=4e-2,
                                       atol=4e-2 * scale)


@pytest.mark.parametrize("dtype_name", ["bfloat16", "float16"])
@pytest.mark.parametrize("given_state", [False, True])
@pytest.mark.parametrize("name", CELLS)
def test_cells_with_16_bit_input(name, given_state, dtype_name):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    state = None
    if given_state:
        h = rng.standard_normal((4, 5)).astype(np.float32) * 0.5
        state = (h, h * 2) if name == "LSTMCell" else (h,)
    _check(name, {}, x, state, dtype_name, dtype_name, dtype_name)


@pytest.mark.parametrize("name", CELLS)
def test_cells_with_float32_input_and_16_bit_state(name):
    # the state is in the autocast dtype, the input is not: the input's product is cast anyway
    rng = np.random.default_rng(4)
    x, h = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((2, 5)).astype(np.float32)
    _check(name, {}, x, (h, h) if name == "LSTMCell" else (h,), "bfloat16", "float32", "bfloat16")


@pytest.mark.parametrize("dtype_name", ["bfloat16", "float16"])
@pytest.mark.parametrize("kwargs", [{"batch_first": True}, {"num_layers": 2, "bidirectional": True}])
@pytest.mark.parametrize("given_state", [False, True])
def test_gru_with_16_bit_input(kwargs, given_state, dtype_name):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    state = (rng.standard_normal((layers, 4 if not kwargs.get("batch_first") else 2, 5)).astype(np.float32),) \
        if given_state else None
    _check("GRU", kwargs, x, state, dtype_name, dtype_name, dtype_name)


def test_functional_gru_cell_with_16_bit_state():
    def run(lib):
        rng = np.random.default_rng(6)
        x, h = (lib.tensor(rng.standard_normal(s).astype(np.float32)).bfloat16() for s in ((2, 3), (2, 4)))
        w_ih, w_hh = (lib.tensor(rng.standard_normal(s).astype(np.float32)) for s in ((12, 3), (12, 4)))
        with lib.autocast("cpu"):
            out = lib.gru_cell(x, h, w_ih, w_hh)
        return str(out.dtype).split(".")[-1], out.float().numpy()
    (mine, got), (theirs, expected) = run(ember), run(torch)
    assert mine == theirs
    np.testing.assert_allclose(got, expected, rtol=3e-2, atol=3e-2)


def test_16_bit_state_without_autocast_is_still_refused():
    module, _ = _pair("GRUCell")
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype"):
        module(ember.ones(2, 3, dtype=ember.bfloat16))


@pytest.mark.parametrize("name", CELLS + ["GRU"])
def test_float16_state_under_bfloat16_autocast(name):
    # products in bfloat16, the LSTM and GRU updates in float32 (float16 state promoted with bfloat16 gates); the
    # plain RNN's state feeds only its product, so its result is bfloat16
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 3) if name.endswith("Cell") else (4, 3, 3)).astype(np.float32)
    _check(name, {}, x, None, "bfloat16", "float16")


@pytest.mark.parametrize("input_dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("packed", [False, True])
def test_lstm_runs_onednn_only_where_pytorch_does(packed, input_dtype):
    # PyTorch's CPU LSTM runs oneDNN's layer (listed: all in bfloat16) for a padded float32 or bfloat16 input, and
    # its cells otherwise (packed, float16): products in bfloat16, the update in the state's dtype promoted with it
    modules = dict(zip((ember, torch), _pair("LSTM")))

    def run(lib):
        x = lib.tensor(np.random.default_rng(8).standard_normal((3, 4, 3)).astype(np.float32))
        x = x.to(getattr(lib, input_dtype))
        if packed:
            x = lib.nn.utils.rnn.pack_padded_sequence(x, [3, 2, 2, 1])
        with lib.autocast("cpu", dtype=lib.bfloat16):
            output, (h, c) = modules[lib](x)
        return [o.detach() for o in (output.data if packed else output, h, c)]
    got, expected = run(ember), run(torch)
    assert [str(g.dtype).split(".")[-1] for g in got] == [str(e.dtype).split(".")[-1] for e in expected]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.float().numpy(), e.float().numpy(), rtol=3e-2, atol=3e-2)


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("packed", [False, True])
def test_projected_lstm_output_is_16_bit(packed):
    # each step's output comes from the listed projection linear; (PyTorch keeps the float32 cell state, ember's layer
    # runs wholly in bfloat16, so c is left out)
    torch.manual_seed(0)
    reference = torch.nn.LSTM(3, 4, proj_size=2)
    module = ember.nn.LSTM(3, 4, proj_size=2)
    module.load_state_dict({k: ember.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    x = np.random.default_rng(9).standard_normal((3, 4, 3)).astype(np.float32)

    def run(lib, m):
        data = lib.tensor(x)
        if packed:
            data = lib.nn.utils.rnn.pack_padded_sequence(data, [3, 2, 2, 1])
        with lib.autocast("cpu", dtype=lib.bfloat16):
            output, (h, _) = m(data)
        return [o.detach() for o in (output.data if packed else output, h)]
    got, expected = run(ember, module), run(torch, reference)
    assert [str(g.dtype).split(".")[-1] for g in got] == [str(e.dtype).split(".")[-1] for e in expected]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.float().numpy(), e.float().numpy(), rtol=3e-2, atol=3e-2)
