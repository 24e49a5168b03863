"""A bidirectional recurrent module runs its two directions at once on the intra-op threads: outputs, final states
and every gradient are the bits of the one-thread run, and the BLAS thread count is what it was."""
import numpy
import pytest

import ember
from ember.ops import _blas, _parallel


@pytest.mark.parametrize("mode, extra", [("LSTM", {}), ("GRU", {}), ("RNN", {"nonlinearity": "tanh"}),
                                         ("LSTM", {"proj_size": 3})])
@pytest.mark.parametrize("packed", [False, True])
def test_directions_side_by_side_match_one_thread(mode, extra, packed):
    before = _parallel.num_threads()
    controls = _blas._controls()
    blas_before = controls[0]() if controls is not None else None
    results = []
    try:
        for threads in (1, 2):
            _parallel.set_num_threads(threads)
            results.append(_run(mode, extra, packed))
            if controls is not None:
                assert controls[0]() == blas_before
    finally:
        _parallel.set_num_threads(before)
    for one, two in zip(*results):
        numpy.testing.assert_array_equal(one, two)


def _run(mode, extra, packed):
    ember.manual_seed(0)
    module = getattr(ember.nn, mode)(5, 6, num_layers=2, bidirectional=True, **extra)
    rng = numpy.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((7, 4, 5), dtype=numpy.float32), requires_grad=True)
    source = ember.nn.utils.rnn.pack_padded_sequence(x, [7, 6, 4, 2]) if packed else x
    output, state = module(source)
    if packed:
        output = ember.nn.utils.rnn.pad_packed_sequence(output)[0]
    states = state if isinstance(state, tuple) else (state,)
    (output.square().sum() + sum(s.sum() for s in states)).backward()
    return [output.detach().numpy(), *(s.detach().numpy() for s in states), x.grad.numpy(),
            *(p.grad.numpy() for p in module.parameters())]


@pytest.mark.parametrize("extra", [{}, {"proj_size": 3}])
def test_small_lstm_training_forward_in_batch_parts_matches_one_thread(extra, monkeypatch):
    """A small LSTM's recorded forward steps parts of the batch's rows on the intra-op threads: outputs, states and
    every gradient are the one-thread bits (seven rows in parts of two or more: uneven parts on three threads)."""
    from ember.ops import recurrent_layers
    monkeypatch.setattr(recurrent_layers, "PART_ROWS", 2)
    calls = []
    spied = _parallel.parallel_for
    monkeypatch.setattr(_parallel, "parallel_for", lambda count, work, grain=1: (calls.append(count),
                                                                                spied(count, work, grain)))
    before = _parallel.num_threads()
    results = []
    try:
        for threads in (1, 3):
            _parallel.set_num_threads(threads)
            ember.manual_seed(0)
            module = ember.nn.LSTM(5, 6, num_layers=2, batch_first=True, **extra)
            x = ember.tensor(numpy.random.default_rng(2).standard_normal((7, 4, 5), dtype=numpy.float32),
                             requires_grad=True)
            rng = numpy.random.default_rng(3)
            hx = tuple(ember.tensor(rng.standard_normal((2, 7, size), dtype=numpy.float32))
                       for size in (extra.get("proj_size", 6), 6))
            output, (h, c) = module(x, hx)
            (output.square().sum() + h.sum() + c.sum()).backward()
            results.append([output.detach().numpy(), h.detach().numpy(), c.detach().numpy(), x.grad.numpy(),
                            *(p.grad.numpy() for p in module.parameters())])
    finally:
        _parallel.set_num_threads(before)
    assert 7 in calls   # the batch's rows went to parallel_for
    for one, three in zip(*results):
        numpy.testing.assert_array_equal(one, three)
