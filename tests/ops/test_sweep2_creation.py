"""Creation and conversion, as a second differential sweep against PyTorch 2.13 found them: ``tensor(..., dtype=bool)``
reads any number by whether it is nonzero, ``float()``/``int()`` of a complex tensor keep its real part or raise
PyTorch's RuntimeError, sampling functions refuse negative sizes with PyTorch's error, arange to integer dtypes from
fractional arguments (int64 truncates them and counts in integers; narrower integers count in doubles and may step
by 0); each case run on both."""
import pytest

from tests.oracle import same_listing


@pytest.mark.parametrize("data", [1 + 2j, 0j, 2 ** 63, 2 ** 70, -2 ** 70, [1j, 0],
                                  [[2 ** 64, float("nan")], [0.0, -0.0]], [True, 2.5, 0], ["a"], [[1], [2, 3]], [],
                                  [[], []]])
def test_bool_tensor_from_numbers(data):
    same_listing(lambda L: L.tensor(data, dtype=L.bool))


@pytest.mark.parametrize("value", [1 + 0j, 2.5 + 0j, 1 + 1j, -2j, 2.5, float("nan")])
@pytest.mark.parametrize("convert", [float, int, complex, bool])
def test_python_numbers_of_complex_tensors(value, convert):
    same_listing(lambda L: convert(L.tensor(value)))


@pytest.mark.parametrize("sampler", [lambda L, s: L.rand(*s), lambda L, s: L.randn(*s),
                                     lambda L, s: L.randint(0, 5, s), lambda L, s: L.rand(s)])
@pytest.mark.parametrize("size", [(2, -3), (-1,), (2, -1, -4), (0,), (2, 0)])
def test_sampling_refuses_negative_sizes(sampler, size):
    same_listing(lambda L: tuple(sampler(L, size).shape))


ARANGES = [(0, 10, 2.5), (0, 1, 0.1), (0.5, 5, 1), (0, 5.5, 1), (-1.5, 3, 1.5), (0, 10, 0.5), (0.9, 3.9, 1),
           (0, -5.5, -1), (5.5, 0, -2.5), (0, 7, 2.9), (0, 5), (3,), (0, 0, 1)]


@pytest.mark.parametrize("args", ARANGES)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int16", None])
def test_arange_integer_dtypes_with_fractional_arguments(args, dtype):
    same_listing(lambda L: L.arange(*args, **({} if dtype is None else {"dtype": getattr(L, dtype)})))


LOGSPACES = [(-1, 1, 4), (0, 3, 4), (0, 2, 5), (1, 3, 3), (0.5, 2.5, 3), (-1, 1, 4, 2), (0, 10, 3, 2), (2, 0, 5),
             (0, 1, 1), (0, 1, 0), (1.7, 3.2, 4, 2)]


@pytest.mark.parametrize("args", LOGSPACES)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int16", "int8"])
def test_logspace_integer_dtypes(args, dtype):
    same_listing(lambda L: L.logspace(*args, dtype=getattr(L, dtype)))
