"""ember.quasirandom.SobolEngine beside torch.quasirandom: the same points, plain and scrambled (seeded or from the
global generator), drawn in pieces, in float32 and float64, after reset and fast_forward; errors and reprs."""
import numpy
import pytest
import torch

import ember

pytest.importorskip("scipy")   # the direction numbers come from SciPy's copy of Joe and Kuo's table


def _run(lib, dimension, scramble, seed):
    engine = lib.quasirandom.SobolEngine(dimension, scramble=scramble, seed=seed)
    drawn = [engine.draw(), engine.draw(6), engine.draw(1, dtype=lib.float64), engine.draw_base2(3)]
    engine.fast_forward(5)
    drawn.append(engine.draw(2))
    engine.reset().fast_forward(3)
    drawn += [engine.draw(4), engine.sobolstate, engine.shift]
    fresh = lib.quasirandom.SobolEngine(dimension, scramble=scramble, seed=seed)
    out = lib.empty(0)
    drawn += [fresh.draw(5, out=out), out, fresh.draw(1, dtype=lib.float64)]
    return repr(engine), [(t.dtype is lib.float64, t.numpy()) for t in drawn]


@pytest.mark.parametrize("dimension,scramble,seed", [(1, False, None), (5, False, None), (40, False, None),
                                                     (3, True, 0), (21, True, 12345)])
def test_sobol_points_match_torch(dimension, scramble, seed):
    expected, got = _run(torch, dimension, scramble, seed), _run(ember, dimension, scramble, seed)
    assert got[0] == expected[0]
    for (got_double, got_points), (double, points) in zip(got[1], expected[1]):
        assert got_double == double
        numpy.testing.assert_array_equal(got_points, points)


def test_unseeded_scrambling_draws_from_the_global_generator():
    seen = []
    for lib in (torch, ember):
        lib.manual_seed(5)
        engine = lib.quasirandom.SobolEngine(4, scramble=True)
        seen.append((engine.draw(8).numpy(), lib.rand(2).numpy()))
    for got, expected in zip(seen[1], seen[0]):
        numpy.testing.assert_array_equal(got, expected)


def test_direction_numbers_of_every_dimension_match_torch():
    """The last dimension's direction numbers: the table's every polynomial degree has been through the recurrence."""
    for lib in (torch, ember):
        engine = lib.quasirandom.SobolEngine(lib.quasirandom.SobolEngine.MAXDIM)
        engine.fast_forward(1000)
        if lib is torch:
            expected = engine.draw(3).numpy()
        else:
            numpy.testing.assert_array_equal(engine.draw(3).numpy(), expected)


def test_errors_as_torch():
    for bad in (0, 21202):
        messages = []
        for lib in (torch, ember):
            with pytest.raises(ValueError) as error:
                lib.quasirandom.SobolEngine(bad)
            messages.append(str(error.value))
        assert messages[0] == messages[1]
    messages = []
    for lib in (torch, ember):
        engine = lib.quasirandom.SobolEngine(2)
        engine.draw(3)
        with pytest.raises(ValueError) as error:
            engine.draw_base2(2)
        messages.append(str(error.value))
    assert messages[0] == messages[1]
