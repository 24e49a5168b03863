"""``out=`` of the (values, indices) ops: each kernel refuses outs of other dtypes than the input's and int64 in its
own words (kthvalue, mode, median, nanmedian, cummax, cummin) or PyTorch's common ones (max, min, sort, topk,
aminmax), checked against PyTorch 2.13."""
import pytest

from tests.oracle import same_outcome

CALLS = {
    "kthvalue": lambda lib, a, out: lib.kthvalue(a, 2, 1, out=out),
    "mode": lambda lib, a, out: lib.mode(a, 1, out=out),
    "median": lambda lib, a, out: lib.median(a, 1, out=out),
    "nanmedian": lambda lib, a, out: lib.nanmedian(a, 1, out=out),
    "cummax": lambda lib, a, out: lib.cummax(a, 1, out=out),
    "cummin": lambda lib, a, out: lib.cummin(a, 1, out=out),
    "max": lambda lib, a, out: lib.max(a, 1, out=out),
    "min": lambda lib, a, out: lib.min(a, 1, out=out),
    "sort": lambda lib, a, out: lib.sort(a, 1, out=out),
    "topk": lambda lib, a, out: lib.topk(a, 2, 1, out=out),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("input_dtype", ["float32", "int64", "bfloat16"])
@pytest.mark.parametrize("values_dtype, indices_dtype", [
    ("float32", "int64"), ("int64", "int64"), ("float64", "int64"), ("float32", "int32"), ("float64", "int32"),
    ("bool", "int64"), ("float32", "complex64")])
def test_out_dtypes(name, input_dtype, values_dtype, indices_dtype):
    def run(lib):
        a = lib.tensor([[3.0, 1.0, 2.0, 1.0], [0.0, 5.0, 5.0, 4.0]]).to(getattr(lib, input_dtype))
        out = (lib.empty(0, dtype=getattr(lib, values_dtype)), lib.empty(0, dtype=getattr(lib, indices_dtype)))
        return list(CALLS[name](lib, a, out))
    same_outcome(run)
