"""optim.Muon against PyTorch's: parameters after several steps (wide, tall and square matrices; Nesterov or not;
both learning-rate adjustments; weight decay; float64), its bfloat16 Newton-Schulz iteration alone, state_dicts both
ways, and its errors."""
import numpy
import pytest
import torch

import ember
from ember.optim import muon as ember_muon
from tests.optim._steps import converted, run_steps

SHAPES = [(6, 4), (3, 8), (5, 5)]


def _run(lib, steps, dtype="float32", state=None, **options):
    return run_steps(lib, "Muon", SHAPES, steps, dtype, state, **options)


@pytest.mark.parametrize("options", [{}, {"lr": 0.02, "nesterov": False}, {"adjust_lr_fn": "match_rms_adamw"},
                                     {"weight_decay": 0.0, "momentum": 0.5, "ns_steps": 3},
                                     {"ns_coefficients": (2.0, -1.5, 0.5), "eps": 1e-5}, {"dtype": "float64"}])
def test_steps_match_torch(options):
    options = dict(options)
    dtype = options.pop("dtype", "float32")
    ours, mine = _run(ember, 5, dtype, lr=options.pop("lr", 0.05), **options)
    theirs, reference = _run(torch, 5, dtype, lr=mine.defaults["lr"], **options)
    tolerance = 1e-6 if dtype == "float32" else 1e-12
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype
        numpy.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance)
    for k in range(len(SHAPES)):
        got, want = mine.state_dict()["state"][k], reference.state_dict()["state"][k]
        assert got.keys() == want.keys() == {"momentum_buffer"}
        numpy.testing.assert_allclose(got["momentum_buffer"].numpy(), want["momentum_buffer"].numpy(), rtol=1e-6)
    assert mine.state_dict()["param_groups"] == reference.state_dict()["param_groups"]


@pytest.mark.parametrize("shape", [(7, 3), (3, 7), (16, 16)])
def test_newton_schulz_is_torchs_bfloat16_iteration(shape):
    from torch.optim._muon import _zeropower_via_newtonschulz
    grad = numpy.random.default_rng(1).standard_normal(shape).astype(numpy.float32)
    coefficients = (ember_muon.DEFAULT_A, ember_muon.DEFAULT_B, ember_muon.DEFAULT_C)
    ours = ember_muon._zeropower_via_newtonschulz(numpy, grad, coefficients, 5, 1e-7)
    theirs = _zeropower_via_newtonschulz(torch.tensor(grad), coefficients, 5, 1e-7)
    numpy.testing.assert_array_equal(ours, theirs.float().numpy())
    singular_values = numpy.linalg.svd(ours.astype(numpy.float64), compute_uv=False)
    assert singular_values.min() > 0.5 and singular_values.max() < 1.5   # near-orthogonal, as the method promises


def test_state_dicts_load_both_ways():
    _, mine = _run(ember, 3)
    _, reference = _run(torch, 3)
    ours, _ = _run(ember, 2, state=converted(reference.state_dict(), ember))
    theirs, _ = _run(torch, 2, state=converted(mine.state_dict(), torch))
    for a, b in zip(ours, theirs):
        numpy.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("options", [{"lr": -1.0}, {"momentum": -0.1}, {"weight_decay": -0.1},
                                     {"adjust_lr_fn": "other"}])
def test_bad_options_raise_as_torch(options):
    messages = []
    for lib in (ember, torch):
        with pytest.raises(ValueError) as caught:
            lib.optim.Muon([lib.nn.Parameter(lib.zeros(2, 2))], **options)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_non_matrix_and_complex_parameters_raise_as_torch():
    messages = []
    for lib in (ember, torch):
        with pytest.raises(ValueError) as caught:
            lib.optim.Muon([lib.nn.Parameter(lib.zeros(2, 2)), lib.nn.Parameter(lib.zeros(3))])
        messages.append(str(caught.value).replace("ember.Size", "torch.Size"))
        p = lib.nn.Parameter(lib.zeros(2, 2, dtype=lib.complex64))
        p.grad = lib.zeros(2, 2, dtype=lib.complex64)
        with pytest.raises(RuntimeError, match="Muon does not support complex parameters"):
            lib.optim.Muon([p]).step()
    assert messages[0] == messages[1]
