"""ember.testing.assert_close / make_tensor against torch.testing: the same pass/fail decisions and messages."""
import numpy
import pytest
import torch

import ember

nan, inf = float("nan"), float("inf")


def t(lib, values, dtype=None):
    return lib.tensor(values, dtype=getattr(lib, dtype) if dtype else None)


CASES = [
    lambda lib: (t(lib, [1.0, 2.0, 3.0]), t(lib, [1.0, 2.5, 3.0]), {}),
    lambda lib: (t(lib, [1.0, 2.0, 3.0]), t(lib, [1.0, 2.000001, 3.0]), {}),
    lambda lib: (t(lib, [[1, 2], [3, 4]]), t(lib, [[1, 2], [3, 5]]), {}),
    lambda lib: (t(lib, [1.0, 2.0]), t(lib, [1.0, 2.0], "float64"), {}),
    lambda lib: (t(lib, [1.0, 2.0], "float64"), t(lib, [1.0, 2.0000001]), {"check_dtype": False}),
    lambda lib: (t(lib, [1.0, 2.0]), t(lib, [1.0, 2.0, 3.0]), {}),
    lambda lib: (1.0, 1.1, {}),
    lambda lib: (1, 2, {}),
    lambda lib: (1.0, 1.0 + 1e-9, {}),
    lambda lib: ([t(lib, 1.0), t(lib, 2.0)], [t(lib, 1.0), t(lib, 3.0)], {}),
    lambda lib: ({"a": t(lib, 1.0)}, {"a": t(lib, 3.0)}, {}),
    lambda lib: ({"a": t(lib, 1.0)}, {"b": t(lib, 1.0)}, {}),
    lambda lib: ([[t(lib, [1.0, 2.0])]], [[t(lib, [1.0, 4.0])]], {}),
    lambda lib: (t(lib, [nan]), t(lib, [nan]), {}),
    lambda lib: (t(lib, [nan, 1.0]), t(lib, [nan, 1.0]), {"equal_nan": True}),
    lambda lib: (t(lib, [1.0]), t(lib, [2.0]), {"msg": "custom"}),
    lambda lib: (t(lib, [1.0]), t(lib, [2.0]), {"msg": lambda m: "prefix: " + m}),
    lambda lib: (t(lib, [1.0, 0.0]), t(lib, [2.0, 0.0]), {"atol": 0, "rtol": 0}),
    lambda lib: (t(lib, [1.0, 0.5]), t(lib, [1.2, 0.5]), {"atol": 0.1, "rtol": 0.1}),
    lambda lib: (t(lib, [1.0, 0.0]), t(lib, [1.0, 1e-3]), {"atol": 0.0, "rtol": 0.5}),
    lambda lib: (t(lib, [1.0]), [1.0], {}),
    lambda lib: (t(lib, [1.0]), 1.0, {}),
    lambda lib: ([1.0, 2.0], [1.0, 2.0, 3.0], {}),
    lambda lib: (t(lib, [True, False]), t(lib, [True, True]), {}),
    lambda lib: (t(lib, [1.0, 2.0]), t(lib, [1.0, inf]), {}),
    lambda lib: ("a", "a", {}),
    lambda lib: (None, None, {}),
    lambda lib: (numpy.array([1.0, 2.0]), numpy.array([1.0, 3.0]), {}),
    lambda lib: (t(lib, [1.0]), t(lib, [2.0]), {"rtol": 0.1}),
    lambda lib: (t(lib, [1.0]), t(lib, [2.0]), {"atol": 0.1}),
    lambda lib: (t(lib, [1 + 1j, 2j]), t(lib, [1 + 1j, 2.5j]), {}),
    lambda lib: (t(lib, [1.0, 2.0], "float16"), t(lib, [1.0, 2.01], "float16"), {}),
    lambda lib: (t(lib, [[0.0] * 4] * 3).reshape(3, 4), t(lib, numpy.arange(12.0).reshape(3, 4).tolist()), {}),
]


@pytest.mark.parametrize("case", CASES)
def test_assert_close_decides_and_reports_as_torch(case):
    t_actual, t_expected, kwargs = case(torch)
    e_actual, e_expected, e_kwargs = case(ember)
    try:
        torch.testing.assert_close(t_actual, t_expected, **kwargs)
    except Exception as error:
        expected_error = error
    else:
        expected_error = None
    if expected_error is None:
        ember.testing.assert_close(e_actual, e_expected, **e_kwargs)
        return
    with pytest.raises(type(expected_error)) as got:
        ember.testing.assert_close(e_actual, e_expected, **e_kwargs)
    want = str(expected_error).replace("torch.", "ember.")
    assert str(got.value) == want


def test_check_stride_and_device():
    a = ember.zeros(2, 3)
    b = ember.zeros(2, 3).t().contiguous().t()
    ember.testing.assert_close(a, b)
    with pytest.raises(AssertionError, match=r"The values for attribute 'stride\(\)' do not match: \(3, 1\) != "
                                             r"\(1, 2\)\."):
        ember.testing.assert_close(a, b, check_stride=True)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "uint8", "bool", "complex64"])
def test_make_tensor_dtype_shape_and_range(dtype):
    ember.manual_seed(0)
    e = ember.testing.make_tensor(4, 50, dtype=getattr(ember, dtype), device="cpu")
    t = torch.testing.make_tensor(4, 50, dtype=getattr(torch, dtype), device="cpu")
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1] and tuple(e.shape) == (4, 50)
    values = e.numpy()
    if dtype == "bool":
        assert values.any() and not values.all()
    elif dtype.startswith("complex"):
        assert (numpy.abs(values.real) <= 9).all() and (numpy.abs(values.imag) <= 9).all()
    else:
        low = 0 if dtype == "uint8" else -9
        high = 9 if dtype.startswith("float") else 10
        assert values.min() >= low and values.max() < high and values.min() < low + 3 and values.max() > high - 4


def test_make_tensor_options_and_errors():
    make = ember.testing.make_tensor
    x = make((3, 4), dtype=ember.float32, device="cpu", low=2, high=3, requires_grad=True, noncontiguous=True)
    assert x.requires_grad and not x.is_contiguous() and 2 <= x.min().item() and x.max().item() < 3
    assert make(100, dtype=ember.int32, device="cpu", low=0, high=2, exclude_zero=True).numpy().min() == 1
    for kwargs in ({"low": 2, "high": 1}, {"low": nan}):
        with pytest.raises(ValueError) as expected:
            torch.testing.make_tensor(3, dtype=torch.float32, device="cpu", **kwargs)
        with pytest.raises(ValueError) as got:
            make(3, dtype=ember.float32, device="cpu", **kwargs)
        assert str(got.value) == str(expected.value)
    with pytest.raises(ValueError, match="`requires_grad=True` is not supported for boolean and integral dtypes"):
        make(3, dtype=ember.int32, device="cpu", requires_grad=True)
    with pytest.raises(TypeError):
        make(3, dtype=ember.float32)


ALLCLOSE_CASES = [
    lambda lib: (t(lib, [1.0, 2.0]), t(lib, [1.0, 2.00015]), {}),           # inside its float32 rtol of 1e-4
    lambda lib: (t(lib, [1.0, 2.0]), t(lib, [1.0, 2.0003]), {}),            # outside it
    lambda lib: (t(lib, [nan, 1.0]), t(lib, [nan, 1.0]), {}),               # NaNs equal by default
    lambda lib: (t(lib, [1.0, 2.0]), t(lib, [1.0, 2.0], "float64"), {}),    # dtypes not compared
    lambda lib: (t(lib, [1.0, 2.0]), [1.0, 2.1], {"rtol": 0.1, "atol": 0.0}),
    lambda lib: ([1, 2], [1, 3], {"msg": "custom"}),
    lambda lib: (t(lib, [1.0, 2.0], "float64"), t(lib, [1.0, 2.00003], "float64"), {}),
]


@pytest.mark.parametrize("case", ALLCLOSE_CASES)
def test_deprecated_assert_allclose_decides_reports_and_warns_as_torch(case):
    outcomes = []
    for lib in (torch, ember):
        actual, expected, kwargs = case(lib)
        with pytest.warns(FutureWarning, match=r"`torch.testing.assert_allclose\(\)` is deprecated since 1.12"):
            try:
                lib.testing.assert_allclose(actual, expected, **kwargs)
            except AssertionError as error:
                outcomes.append(str(error).replace("torch.", "ember."))
            else:
                outcomes.append(None)
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("dtype, options", [
    ("float32", {}), ("float64", {"low": -1, "high": 1}), ("float16", {}), ("bfloat16", {}), ("complex64", {}),
    ("int32", {}), ("int64", {"low": -2, "high": 2, "exclude_zero": True}), ("uint8", {}), ("int8", {"low": -1000}),
    ("bool", {}), ("float32", {"noncontiguous": True, "requires_grad": True}),
    ("float64", {"low": -1e308, "high": 1e308})])
def test_make_tensor_draws_torch_values(dtype, options):
    """make_tensor draws as PyTorch's (randint in the dtype, uniform_ on the tensor or its real view, twice the last
    dim when noncontiguous), so seeded calls give PyTorch's tensors and leave the generator where PyTorch's does."""
    results = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        x = lib.testing.make_tensor(3, 4, dtype=getattr(lib, dtype), device="cpu", **options)
        results.append((x.detach().float().numpy() if dtype == "bfloat16" else x.detach().numpy(), x.stride(),
                        x.requires_grad, lib.rand(2).numpy()))
    for got, want in zip(results[1], results[0]):
        numpy.testing.assert_array_equal(got, want)


def test_make_tensor_range_and_format_errors():
    for kwargs in ({"dtype": "uint8", "low": 300, "high": 400},
                   {"dtype": "float32", "noncontiguous": True, "memory_format": "channels_last"}):
        messages = []
        for lib in (torch, ember):
            options = {k: getattr(lib, v) if k in ("dtype", "memory_format") else v for k, v in kwargs.items()}
            with pytest.raises(ValueError) as error:
                lib.testing.make_tensor(1, 2, 2, 2, device="cpu", **options)
            messages.append(str(error.value).replace("ember.", "torch."))
        assert messages[1] == messages[0]
