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
