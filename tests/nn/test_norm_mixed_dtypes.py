"""Normalization with parameters of another dtype than the input: PyTorch's CPU rules (float32 parameters with a
float16/bfloat16 input compute; any other mix raises its "mixed dtype (CPU)" errors), for every norm function."""
import warnings

import numpy
import pytest
import torch

import ember

DTYPES = ["float16", "bfloat16", "float32", "float64"]
NORMS = {
    "batch_norm-train": lambda F, x, p: F.batch_norm(x, p["mean"], p["var"], p["w"], p["b"], True),
    "batch_norm-eval": lambda F, x, p: F.batch_norm(x, p["mean"], p["var"], p["w"], p["b"], False),
    "batch_norm-stats-only": lambda F, x, p: F.batch_norm(x, p["mean"], p["var"], None, None, False),
    "batch_norm-affine-only": lambda F, x, p: F.batch_norm(x, None, None, p["w"], p["b"], True),
    "layer_norm": lambda F, x, p: F.layer_norm(x, (4,), p["w4"], p["b4"]),
    "layer_norm-weight-only": lambda F, x, p: F.layer_norm(x, (4,), weight=p["w4"]),
    "group_norm": lambda F, x, p: F.group_norm(x, 1, p["w"], p["b"]),
    "instance_norm": lambda F, x, p: F.instance_norm(x, None, None, p["w"], p["b"]),
    "instance_norm-stats": lambda F, x, p: F.instance_norm(x, p["mean"], p["var"], p["w"], p["b"]),
}


def _run(lib, norm, x_dtype, p_dtype):
    rng = numpy.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((2, 3, 4)).astype(numpy.float32)).to(getattr(lib, x_dtype))
    p_dtype = getattr(lib, p_dtype)
    parameters = {"mean": lib.zeros(3, dtype=p_dtype), "var": lib.ones(3, dtype=p_dtype),
                  "w": lib.full((3,), 1.5, dtype=p_dtype), "b": lib.full((3,), 0.25, dtype=p_dtype),
                  "w4": lib.full((4,), 1.5, dtype=p_dtype), "b4": lib.full((4,), 0.25, dtype=p_dtype)}
    try:
        result = NORMS[norm](lib.nn.functional, x, parameters)
    except RuntimeError as error:
        return "error", str(error)
    return str(result.dtype).split(".")[-1], result.float().numpy()


@pytest.mark.parametrize("p_dtype", DTYPES)
@pytest.mark.parametrize("x_dtype", DTYPES)
@pytest.mark.parametrize("norm", NORMS)
def test_mixed_dtypes_as_torch(norm, x_dtype, p_dtype):
    got, want = _run(ember, norm, x_dtype, p_dtype), _run(torch, norm, x_dtype, p_dtype)
    assert got[0] == want[0]
    if got[0] == "error":
        assert got[1] == want[1]
    else:
        tolerance = 1e-2 if x_dtype in ("float16", "bfloat16") else 1e-5
        numpy.testing.assert_allclose(got[1], want[1], rtol=tolerance, atol=tolerance)


def _outcome(lib, call, dtypes):
    F = lib.nn.functional
    tensors = [None if d is None else lib.ones(n, dtype=getattr(lib, d)) for d, n in zip(dtypes, (3, 3, 3, 3))]
    try:
        return str(call(F, lib, *tensors).dtype).split(".")[-1]
    except RuntimeError as error:
        return str(error)


PARAMETER_CALLS = {   # (weight, bias, running mean and var)
    "batch_norm-train": lambda F, L, w, b, r: F.batch_norm(L.ones(2, 3, 4), r, r, w, b, training=True),
    "batch_norm-eval": lambda F, L, w, b, r: F.batch_norm(L.ones(2, 3, 4), r, r, w, b, training=False),
    "layer_norm": lambda F, L, w, b, r: F.layer_norm(L.ones(2, 3), (3,), w, b),
    "group_norm": lambda F, L, w, b, r: F.group_norm(L.ones(2, 3, 4), 1, w, b),
    "instance_norm": lambda F, L, w, b, r: F.instance_norm(L.ones(2, 3, 4), None, None, w, b),
}


@pytest.mark.parametrize("dtypes", [("float32", "float64", "float32"), (None, "float64", "float32"),
                                    ("float32", "float32", "float64"), ("float64", "float32", "float32"),
                                    ("float32", "float16", None), (None, None, "float64"),
                                    ("float32", None, "float16")])
@pytest.mark.parametrize("call", PARAMETER_CALLS)
def test_parameters_read_in_pytorchs_order(call, dtypes):
    """The first parameter PyTorch reads (weight, bias, then the running statistics) decides: of the input's dtype,
    a later one of another dtype raises the kernel's 'expected scalar type'; of another, the mixed-dtype rules."""
    if call == "batch_norm-eval" and dtypes[2] is None:
        return
    assert _outcome(ember, PARAMETER_CALLS[call], dtypes) == _outcome(torch, PARAMETER_CALLS[call], dtypes)


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float16", "float32"), ("bfloat16", "float32"),
                                    ("float64", "float32"), ("float16", "float64")])
def test_rms_norm_weight_of_another_dtype(dtypes):
    """A 16-bit input with a float32 weight takes PyTorch's fused kernel (float32 inside, the input's dtype out);
    other mixes its composite path, whose result is cast back to the input's dtype. Gradients keep each dtype."""
    results = []
    for lib in (torch, ember):
        rng = numpy.random.default_rng(0)
        x = lib.tensor(rng.standard_normal((2, 5)).astype(numpy.float32)).to(getattr(lib, dtypes[0]))
        w = lib.tensor(rng.standard_normal(5)).to(getattr(lib, dtypes[1])).requires_grad_()
        x.requires_grad_()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = lib.nn.functional.rms_norm(x, (5,), w)
        y.sum().backward()
        results.append([(str(t.dtype).split(".")[-1], t.detach().double().numpy()) for t in (y, x.grad, w.grad)])
    for (dtype, got), (expected_dtype, expected) in zip(results[1], results[0]):
        assert dtype == expected_dtype
        numpy.testing.assert_allclose(got, expected, rtol=1e-2 if "16" in dtypes[0] else 1e-6, atol=1e-3)


def test_rms_norm_mismatch_warns_once_as_pytorch():
    from ember.ops import _util
    _util._warned.discard("rms_norm")
    x, w = ember.ones(2, 3), ember.ones(3, dtype=ember.float64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.nn.functional.rms_norm(x, (3,), w)
        ember.rms_norm(x, (3,), w)
    assert [str(w.message) for w in caught] == ["Mismatch dtype between input and weight: input dtype = float, "
                                                "weight dtype = double, Cannot dispatch to fused implementation."]
    assert caught[0].filename == __file__
