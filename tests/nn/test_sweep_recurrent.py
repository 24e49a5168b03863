"""Recurrent differences found by the recurrent sweep, each compared with PyTorch in the test: an initial hidden
state in another dtype than the weights (modules, packed input and functional cells)."""
import numpy
import pytest
import torch

from tests.oracle import outcome, same_outcome


def t(lib, shape, seed=0, dtype="float64"):
    return lib.tensor(numpy.random.default_rng(seed).uniform(-2, 2, shape), dtype=getattr(lib, dtype))


def dtype_names(run):
    """``run`` giving its results' dtypes as text: the modules' weights are drawn differently by each library."""
    return lambda lib: " ".join(str(r.dtype).split(".")[-1] for r in run(lib))


def flat(result):
    return [part for item in result for part in (item if isinstance(item, tuple) else (item,))]


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float64", "float32"), ("float32", "float64")])
def test_hidden_state_dtype_as_torch(cls, bias, packed, dtypes):
    """ember promoted an h0 of another dtype than the weights (float64 modules); PyTorch's product refuses it
    (an LSTM's c0 may differ: it is only added)."""
    def run(lib):
        module = getattr(lib.nn, cls)(4, 5, bias=bias).double()
        x = t(lib, (3, 2, 4))
        if packed:
            x = lib.nn.utils.rnn.pack_padded_sequence(x, [3, 2])
        h, c = t(lib, (1, 2, 5), 1, dtypes[0]), t(lib, (1, 2, 5), 2, dtypes[1])
        output, state = module(x, (h, c) if cls == "LSTM" else h)
        return flat([output.data if packed else output, state])
    same_outcome(dtype_names(run))


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cell_state_dtype_as_torch(name, bias, dtype):
    def run(lib):
        cell = getattr(lib.nn, name)(4, 5, bias=bias).double()
        h, c = t(lib, (2, 5), 1, dtype), t(lib, (2, 5), 2)
        return flat([cell(t(lib, (2, 4)), (h, c) if name == "LSTMCell" else h)])
    same_outcome(dtype_names(run))


@pytest.mark.parametrize("name,gates", [("rnn_tanh_cell", 1), ("rnn_relu_cell", 1), ("gru_cell", 3), ("lstm_cell", 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_functional_cell_state_dtype_as_torch(name, gates, bias):
    def run(lib):
        weights = [t(lib, (gates * 5, 4), 3), t(lib, (gates * 5, 5), 4)]
        if bias:
            weights += [t(lib, (gates * 5,), 5), t(lib, (gates * 5,), 6)]
        h = t(lib, (2, 5), 1, "float32")
        return flat([getattr(lib, name)(t(lib, (2, 4)), (h, t(lib, (2, 5), 2)) if gates == 4 else h, *weights)])
    same_outcome(run)
    assert outcome(torch, run)[0] == "error"
