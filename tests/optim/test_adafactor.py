"""optim.Adafactor against PyTorch's: parameters after several steps (matrices, vectors, a 3-D tensor), its options,
state_dicts both ways, foreach (never packed: the update reads whole-parameter norms) and its errors."""
import numpy
import pytest
import torch

import ember
from tests.optim._steps import converted, run_steps

SHAPES = [(4, 3), (3,), (2, 3, 5)]


def _run(lib, steps, dtype="float32", state=None, **options):
    return run_steps(lib, "Adafactor", SHAPES, steps, dtype, state, **options)


@pytest.mark.parametrize("options", [{}, {"lr": 0.05, "weight_decay": 0.01}, {"maximize": True},
                                     {"eps": (1e-20, 1e-2), "d": 2.0}, {"beta2_decay": -0.5, "foreach": True},
                                     {"dtype": "float64"}])
def test_steps_match_torch(options):
    options = dict(options)
    dtype = options.pop("dtype", "float32")
    ours, mine = _run(ember, 6, dtype, **options)
    theirs, reference = _run(torch, 6, dtype, **options)
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    for a, b in zip(ours, theirs):
        numpy.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance)
    for k in range(len(SHAPES)):
        got, want = mine.state_dict()["state"][k], reference.state_dict()["state"][k]
        assert got.keys() == want.keys()
        for name in got:
            numpy.testing.assert_allclose(got[name].numpy(), want[name].numpy(), rtol=tolerance, atol=1e-12)
            assert got[name].dtype == getattr(ember, str(want[name].dtype).split(".")[-1])


def test_state_dicts_load_both_ways():
    _, mine = _run(ember, 3)
    _, reference = _run(torch, 3)
    ours, _ = _run(ember, 2, state=converted(reference.state_dict(), ember))   # PyTorch's state, two more steps
    theirs, _ = _run(torch, 2, state=converted(mine.state_dict(), torch))
    for a, b in zip(ours, theirs):
        numpy.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_foreach_is_the_per_parameter_update():
    packed, _ = _run(ember, 4, foreach=True)
    single, _ = _run(ember, 4, foreach=False)
    for a, b in zip(packed, single):
        numpy.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("options", [{"lr": -1.0}, {"beta2_decay": 0.5}, {"eps": (-1.0, 1e-3)}, {"eps": (None, -1.0)},
                                     {"d": 0.5}, {"weight_decay": -0.1}])
def test_bad_options_raise_as_torch(options):
    messages = []
    for lib in (ember, torch):
        with pytest.raises(ValueError) as caught:
            lib.optim.Adafactor([lib.nn.Parameter(lib.zeros(2))], **options)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_complex_parameters_raise_as_torch():
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.zeros(2, dtype=lib.complex64))
        p.grad = lib.zeros(2, dtype=lib.complex64)
        with pytest.raises(RuntimeError, match="Adafactor does not support complex parameters"):
            lib.optim.Adafactor([p]).step()
