"""The no_grad evaluation paths of the recurrent layers (hidden-major for large layers, stacked [x_t, 1, h] GEMMs
for small LSTMs) against the general path and PyTorch: outputs and final states, every layout option, float32 and
float64."""
import numpy
import pytest
import torch

import ember
from ember.nn.utils import rnn as ember_rnn
from ember.ops import _parallel, recurrent_layers
from tests import oracle

HIDDEN = recurrent_layers._HIDDEN_MAJOR_FROM


def _pair(mode, hidden, dtype, **extra):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, mode)(16, hidden, num_layers=2, **extra).to(getattr(torch, dtype)).eval()
    mine = getattr(ember.nn, mode)(16, hidden, num_layers=2, **extra).to(getattr(ember, dtype)).eval()
    mine.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return mine, theirs


def _flat(result):
    output, state = result
    output = output.data if hasattr(output, "batch_sizes") else output
    return [output] + (list(state) if isinstance(state, tuple) else [state])


def _run(module, lib, x, hx=None):
    with lib.no_grad():
        return [oracle.as_numpy(t) if lib is ember else t.numpy() for t in _flat(module(x, hx))]


def _general(module, x, hx=None, monkeypatch=None):
    """The same module through the general path (the evaluation paths switched off)."""
    monkeypatch.setattr(recurrent_layers, "_plain", lambda *args: False)
    try:
        return _run(module, ember, x, hx)
    finally:
        monkeypatch.undo()


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported:UserWarning")   # PyTorch's
@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("extra", [{}, {"batch_first": True}, {"bidirectional": True}, {"bias": False},
                                   {"proj_size": 24, "bidirectional": True, "batch_first": True}])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", [40, HIDDEN])
def test_evaluation_paths_match_the_general_path_and_torch(mode, extra, dtype, hidden, monkeypatch):
    if "proj_size" in extra and mode != "LSTM":
        pytest.skip("proj_size is an LSTM option")
    mine, theirs = _pair(mode, hidden, dtype, **extra)
    data = numpy.random.default_rng(1).standard_normal((3, 5, 16) if extra.get("batch_first") else (5, 3, 16))
    data = data.astype(dtype)
    state = numpy.random.default_rng(2).standard_normal((4 if extra.get("bidirectional") else 2, 3,
                                                         extra.get("proj_size") or hidden)).astype(dtype)
    cell = numpy.random.default_rng(3).standard_normal(state.shape[:2] + (hidden,)).astype(dtype)
    hx = (state, cell) if mode == "LSTM" else state

    def as_lib(lib, a):
        return tuple(lib.tensor(p) for p in a) if isinstance(a, tuple) else lib.tensor(a)
    fast = _run(mine, ember, ember.tensor(data), as_lib(ember, hx))
    general = _general(mine, ember.tensor(data), as_lib(ember, hx), monkeypatch)
    expected = _run(theirs, torch, torch.tensor(data), as_lib(torch, hx))
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    for got, same, want in zip(fast, general, expected):
        assert got.dtype == want.dtype and got.shape == want.shape
        numpy.testing.assert_allclose(got, same, rtol=tolerance, atol=tolerance)
        numpy.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("hidden", [8, HIDDEN])
def test_packed_sequences_without_gradients_match_torch(mode, hidden):
    """A shrinking batch takes the general path."""
    mine, theirs = _pair(mode, hidden, "float32", bidirectional=True)
    data = numpy.random.default_rng(4).standard_normal((6, 3, 16)).astype(numpy.float32)
    lengths = [6, 4, 1]
    packed = [lib.nn.utils.rnn.pack_padded_sequence(lib.tensor(data), lengths) for lib in (ember, torch)]
    assert isinstance(packed[0], ember_rnn.PackedSequence)
    for got, want in zip(_run(mine, ember, packed[0]), _run(theirs, torch, packed[1])):
        numpy.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("hidden", [8, HIDDEN])
def test_evaluation_equals_the_recorded_forward(hidden):
    """no_grad (fast paths) and a forward recorded for backward give the same output and final states."""
    mine, _ = _pair("LSTM", hidden, "float32", batch_first=True)
    x = ember.tensor(numpy.random.default_rng(5).standard_normal((3, 4, 16)).astype(numpy.float32))
    fast = _run(mine, ember, x)
    recorded = [oracle.as_numpy(t.detach()) for t in _flat(mine(x))]
    for got, want in zip(fast, recorded):
        numpy.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(1, 1), (7, 1), (1, 5)])   # (steps, batch)
@pytest.mark.parametrize("extra", [{}, {"bidirectional": True}, {"proj_size": 5, "bidirectional": True}])
def test_small_lstm_evaluation_at_edge_shapes_matches_torch(shape, extra):
    """The stacked path at batch 1 and a single step, odd hidden size, both directions, with and without proj_size."""
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(3, 7, num_layers=2, **extra).eval()
    mine = ember.nn.LSTM(3, 7, num_layers=2, **extra).eval()
    mine.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    data = numpy.random.default_rng(6).standard_normal(shape + (3,)).astype(numpy.float32)
    for got, want in zip(_run(mine, ember, ember.tensor(data)), _run(theirs, torch, torch.tensor(data))):
        assert got.shape == want.shape
        numpy.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("present", ["b_ih", "b_hh"])
@pytest.mark.parametrize("reverse", [False, True])
def test_stacked_lstm_layer_with_one_bias_matches_the_general_path(present, reverse, monkeypatch):
    """The layer primitive given only one of its two biases: the stacked path folds in just that one."""
    rng = numpy.random.default_rng(7)
    arrays = {name: rng.standard_normal(size).astype(numpy.float32) for name, size in
              (("x", (12, 3)), ("h0", (4, 5)), ("c0", (4, 5)), ("w_ih", (20, 3)), ("w_hh", (20, 5)), ("b", (20,)))}
    t = {name: ember.tensor(a) for name, a in arrays.items()}
    biases = {present: t["b"]}

    def layer():
        with ember.no_grad():
            return [oracle.as_numpy(r) for r in recurrent_layers.lstm_layer(
                t["x"], t["h0"], t["c0"], t["w_ih"], t["w_hh"], reverse=reverse, **biases)]
    fast = layer()
    monkeypatch.setattr(recurrent_layers, "_plain", lambda *args: False)
    for got, want in zip(fast, layer()):
        numpy.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("extra", [{}, {"bidirectional": True, "batch_first": True}, {"proj_size": 3},
                                   {"bias": False}])
@pytest.mark.parametrize("batch", [1, 4])
def test_stacked_training_forward_matches_the_general_path(extra, batch, monkeypatch):
    """A small LSTM layer trained over a plain sequence (input no wider than hidden) runs the stacked GEMM, its
    gates kept for backward: outputs, states and every gradient as the general path's."""
    def step():
        ember.manual_seed(0)
        module = ember.nn.LSTM(5, 7, num_layers=2, **extra)
        x = ember.tensor(numpy.random.default_rng(8).standard_normal((6, batch, 5)).astype(numpy.float32),
                         requires_grad=True)
        parts = _flat(module(x))
        sum((p * p).sum() for p in parts).backward()
        return [p.detach().numpy() for p in parts] + [x.grad.numpy()] + [p.grad.numpy() for p in module.parameters()]
    stacked = step()
    monkeypatch.setattr(recurrent_layers, "_lstm_stacked_recorded", recurrent_layers._lstm_general)
    for got, want in zip(stacked, step()):
        numpy.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_hidden_major_step_products_in_row_blocks_match_torch(mode, monkeypatch):
    """At batch 20 the hidden-major step's W_hh h runs in row blocks (on OpenBLAS's SkylakeX kernels; forced here
    elsewhere): same outputs as the general path and PyTorch."""
    from ember.ops import _blas
    monkeypatch.setattr(_blas, "_small_kernel", lambda: True)
    monkeypatch.setattr(_blas, "_controls", lambda: (lambda: 1, None))
    weight, out = numpy.zeros((4 * HIDDEN, HIDDEN), numpy.float32), numpy.zeros((4 * HIDDEN, 20), numpy.float32)
    assert len(_blas.row_blocks(weight, (HIDDEN, 20), out)) > 1
    mine, theirs = _pair(mode, HIDDEN, "float32", bidirectional=True)
    data = numpy.random.default_rng(9).standard_normal((4, 20, 16)).astype(numpy.float32)
    fast = _run(mine, ember, ember.tensor(data))
    general = _general(mine, ember.tensor(data), monkeypatch=monkeypatch)
    for got, same, want in zip(fast, general, _run(theirs, torch, torch.tensor(data))):
        numpy.testing.assert_allclose(got, same, rtol=1e-5, atol=1e-5)
        numpy.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_large_hidden_major_steps_spread_over_threads(mode, monkeypatch):
    """Hidden 1024 at batch 20: on several threads each step's row blocks run at once, each on one BLAS thread (on
    OpenBLAS's SkylakeX kernels; forced here elsewhere): the bits of one thread, PyTorch's values."""
    from ember.ops import _blas
    monkeypatch.setattr(_blas, "_small_kernel", lambda: True)
    spread = []
    original = recurrent_layers._step_products
    monkeypatch.setattr(recurrent_layers, "_step_products",
                        lambda blocks, h, on: spread.append(on and len(blocks)) or original(blocks, h, on))
    mine, theirs = _pair(mode, 1024, "float32")
    data = numpy.random.default_rng(11).standard_normal((3, 20, 16)).astype(numpy.float32)
    before = ember.get_num_threads()
    try:   # the BLAS's threads too: one thread's product is the blocks as well
        one, three = [ember.set_num_threads(count) or _run(mine, ember, ember.tensor(data)) for count in (1, 3)]
    finally:
        ember.set_num_threads(before)
    assert spread and not any(spread[:len(spread) // 2]) and all(n > 1 for n in spread[len(spread) // 2:])
    for got, same, want in zip(three, one, _run(theirs, torch, torch.tensor(data))):
        numpy.testing.assert_array_equal(got, same)
        numpy.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_large_training_steps_spread_over_threads(mode, monkeypatch):
    """Training at hidden 1024, batch 20: on several threads each step's column blocks run at once, each on one BLAS
    thread (on OpenBLAS's SkylakeX kernels; forced here elsewhere): outputs and gradients with one thread's bits."""
    from ember.ops import _blas
    monkeypatch.setattr(_blas, "_small_kernel", lambda: True)
    spread = []
    original = recurrent_layers._spread_gates
    monkeypatch.setattr(recurrent_layers, "_spread_gates", lambda *args: spread.append(original(*args)) or spread[-1])

    def step():
        ember.manual_seed(0)
        module = getattr(ember.nn, mode)(16, 1024)
        x = ember.tensor(numpy.random.default_rng(12).standard_normal((3, 20, 16)).astype(numpy.float32),
                         requires_grad=True)
        parts = _flat(module(x))
        sum((p * p).sum() for p in parts).backward()
        return [p.detach().numpy() for p in parts] + [x.grad.numpy()] + [p.grad.numpy() for p in module.parameters()]
    before = ember.get_num_threads()
    try:
        one, three = [ember.set_num_threads(count) or step() for count in (1, 3)]
    finally:
        ember.set_num_threads(before)
    assert spread == [False, True]
    for got, want in zip(three, one):
        numpy.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("lengths", [None, [3, 2, 2] + [1] * 17])
def test_step_products_in_column_blocks_match_one_product(mode, lengths, monkeypatch):
    """Training at batch 20, hidden 1024: each gate's step product h W^T runs in column blocks (on OpenBLAS's
    SkylakeX kernels; forced here elsewhere), plain and packed sequences: outputs and gradients as with one product."""
    from ember.ops import _blas
    hidden = 1024

    def step():
        ember.manual_seed(0)
        module = getattr(ember.nn, mode)(16, hidden)
        x = ember.tensor(numpy.random.default_rng(10).standard_normal((3, 20, 16)).astype(numpy.float32),
                         requires_grad=True)
        data = x if lengths is None else ember_rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        parts = _flat(module(data))
        sum((p * p).sum() for p in parts).backward()
        return [p.detach().numpy() for p in parts] + [x.grad.numpy()] + [p.grad.numpy() for p in module.parameters()]
    monkeypatch.setattr(_blas, "_small_kernel", lambda: True)
    monkeypatch.setattr(_blas, "_controls", lambda: (lambda: 1, None))
    weight = numpy.zeros(({"LSTM": 4, "GRU": 3}[mode] * hidden, hidden), numpy.float32)
    by_gate = {"LSTM": recurrent_layers._lstm_weight, "GRU": recurrent_layers._gru_weight}[mode](numpy, weight)
    assert recurrent_layers._gate_products(numpy, by_gate, 20).__name__ == "product"   # the blocks
    blocks = step()
    monkeypatch.setattr(recurrent_layers, "column_ranges", lambda a_shape, b: [(0, b.shape[-1])])
    for got, want in zip(blocks, step()):
        numpy.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported:UserWarning")   # PyTorch's
@pytest.mark.parametrize("extra", [{}, {"proj_size": 4}, {"bias": False}])
def test_small_lstm_batch_parts_on_threads_match_one_thread_and_torch(extra, monkeypatch):
    """Without gradients a small LSTM steps parts of its batch's rows on the intra-op threads: the bits of one
    thread, PyTorch's values (seven rows in parts of two or more: uneven parts on three threads)."""
    monkeypatch.setattr(recurrent_layers, "PART_ROWS", 2)
    calls = []
    spied = _parallel.parallel_for
    monkeypatch.setattr(_parallel, "parallel_for", lambda count, work, grain=1: (calls.append(count),
                                                                                spied(count, work, grain)))
    mine, theirs = _pair("LSTM", 8, "float32", **extra)
    data = numpy.random.default_rng(5).standard_normal((5, 7, 16)).astype(numpy.float32)
    results = _on_threads((1, 3), lambda: _run(mine, ember, ember.tensor(data)))
    assert 7 in calls   # the batch's rows went to parallel_for
    for one, three, want in zip(*results, _run(theirs, torch, torch.tensor(data))):
        numpy.testing.assert_array_equal(one, three)
        numpy.testing.assert_allclose(three, want, rtol=1e-5, atol=1e-5)


def test_small_lstm_batch_parts_in_reverse_match_the_reversed_sequence(monkeypatch):
    """A reverse direction's rows in parts give the forward direction's results over the time-reversed input."""
    monkeypatch.setattr(recurrent_layers, "PART_ROWS", 2)
    rng = numpy.random.default_rng(6)
    steps, batch, features, hidden = 4, 6, 3, 5
    x, h0, c0 = (rng.standard_normal(shape).astype(numpy.float32) for shape in
                 ((steps * batch, features), (batch, hidden), (batch, hidden)))
    weights = [rng.standard_normal(shape).astype(numpy.float32) for shape in
               ((4 * hidden, features), (4 * hidden, hidden), (4 * hidden,), (4 * hidden,))]
    flipped = x.reshape(steps, batch, features)[::-1].reshape(-1, features)

    def layer(source, reverse):
        with ember.no_grad():
            output, h, c = recurrent_layers.lstm_layer(ember.tensor(source), ember.tensor(h0), ember.tensor(c0),
                                                       *map(ember.tensor, weights), reverse=reverse)
        return [output.numpy(), h.numpy(), c.numpy()]
    backward_one, backward_three = _on_threads((1, 3), lambda: layer(x, True))
    forward = layer(flipped, False)
    forward[0] = forward[0].reshape(steps, batch, hidden)[::-1].reshape(-1, hidden)
    for one, three, want in zip(backward_one, backward_three, forward):
        numpy.testing.assert_array_equal(one, three)
        numpy.testing.assert_array_equal(three, want)


def _on_threads(counts, run):
    """``run()``'s result at each intra-op thread count of ``counts``."""
    before = _parallel.num_threads()
    try:
        results = []
        for count in counts:
            _parallel.set_num_threads(count)
            results.append(run())
        return results
    finally:
        _parallel.set_num_threads(before)


@pytest.mark.parametrize("write", ["in place, unseen", "optimizer step", "new parameter"])
def test_stacked_weights_kept_between_evaluations_follow_every_change_of_the_weights(write):
    """A small LSTM's evaluation keeps its stacked weights from the call before only while the weights hold the same
    bits: written in place behind autograd's back (no version change), stepped by an optimizer, or replaced, the
    next evaluation gives PyTorch's result for the new weights."""
    mine, theirs = _pair("LSTM", 40, "float32", batch_first=True)
    x = numpy.random.default_rng(4).standard_normal((3, 5, 16)).astype(numpy.float32)
    first = _run(mine, ember, ember.tensor(x))
    assert all(numpy.array_equal(a, b) for a, b in zip(_run(mine, ember, ember.tensor(x)), first))   # kept
    if write == "in place, unseen":
        mine.weight_hh_l1.detach().numpy()[3, 7] += 0.25   # the parameter's own memory
    elif write == "optimizer step":
        mine.train()
        optimizer = ember.optim.SGD(mine.parameters(), lr=0.1)
        mine(ember.tensor(x))[0].square().sum().backward()
        optimizer.step()
        mine.eval()
    else:
        mine.weight_ih_l0 = ember.nn.Parameter(mine.weight_ih_l0.detach() * 1.5)
    theirs.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in mine.state_dict().items()})
    again = _run(mine, ember, ember.tensor(x))
    for mine_part, theirs_part in zip(again, _run(theirs, torch, torch.tensor(x))):
        numpy.testing.assert_allclose(mine_part, theirs_part, rtol=1e-5, atol=1e-6)
    assert not all(numpy.array_equal(a, b) for a, b in zip(again, first))
