"""torch.nn.init differences found by the nn.init sweep, each compared with PyTorch: normal-type fills of empty
tensors of dtypes their kernels refuse (PyTorch runs no kernel, so no refusal), and the fan mode error's text."""
import pytest
import torch

import ember
from tests.oracle import same_outcome


@pytest.mark.parametrize("name", ["normal_", "trunc_normal_", "xavier_normal_", "kaiming_normal_", "sparse_",
                                  "uniform_"])
@pytest.mark.parametrize("shape", [(0, 4), (4, 0)])
@pytest.mark.parametrize("dtype", ["int64", "bool", "complex64"])
def test_init_of_empty_tensors_of_other_dtypes(name, shape, dtype):
    def run(lib):
        weight = lib.zeros(shape, dtype=getattr(lib, dtype))
        getattr(lib.nn.init, name)(weight, *((0.5,) if name == "sparse_" else ()))
        return weight
    same_outcome(run)


@pytest.mark.parametrize("method,args", [("normal_", ()), ("exponential_", ()), ("log_normal_", ()),
                                         ("geometric_", (0.5,)), ("cauchy_", ()), ("normal_", (0, -1)),
                                         ("exponential_", (0,))])
@pytest.mark.parametrize("dtype", ["int64", "bool", "complex64"])
def test_random_fills_of_empty_tensors(method, args, dtype):
    """Argument checks still run; the dtype refusal is the kernel's (cauchy_'s is not, as PyTorch's)."""
    same_outcome(lambda lib: getattr(lib.zeros(0, dtype=getattr(lib, dtype)), method)(*args))


@pytest.mark.parametrize("call", ["kaiming_uniform_", "kaiming_normal_"])
def test_fan_mode_error(call):
    same_outcome(lambda lib: getattr(lib.nn.init, call)(lib.empty(3, 4), mode="fan_x"))
    same_outcome(lambda lib: lib.nn.init._calculate_correct_fan(lib.empty(3, 4), "bad"))


@pytest.mark.parametrize("namespace", ["nn.init", "nn.utils"])
def test_star_import_names(namespace):
    """``from torch.nn.init import *`` gives PyTorch's __all__ (ember had exported its helpers' imports too)."""
    names = {}
    for lib in (ember, torch):
        scope = {}
        exec(f"from {lib.__name__}.{namespace} import *", scope)   # noqa: S102 (the star import under test)
        names[lib.__name__] = sorted(set(scope) - {"__builtins__"})
    assert names["ember"] == names["torch"]


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64", "complex64"])
@pytest.mark.parametrize("bounds", [(0, float("inf")), (-float("inf"), 0), (-3e38, 3e38), (float("nan"), 1),
                                    (0, 1e6), (-1e308, 1e308), (3.0, 1.0), (0.1, 0.05), (0, 0), ("x", 1), (0, "y"),
                                    (1 + 2j, 2)])
def test_uniform_bounds(dtype, bounds):
    """PyTorch's check_uniform_bounds: both bounds in the dtype's range, ordered, their difference finite, and
    numbers (ember drew infinities, failed in recursion or compared strings)."""
    def run(lib):
        lib.manual_seed(0)
        return lib.nn.init.uniform_(lib.empty(3, dtype=getattr(lib, dtype)), *bounds)
    same_outcome(run)


def test_uniform_bound_keyword_error():
    same_outcome(lambda lib: lib.empty(3).uniform_(**{"from": "x"}))


@pytest.mark.parametrize("call", ["normal_", "log_normal_", "exponential_", "cauchy_", "normal"])
@pytest.mark.parametrize("spread", [float("nan"), -1.0, 0.0])
def test_random_spread_checks(call, spread):
    """A NaN std/lambda/sigma fails PyTorch's checks (ember drew NaNs); cauchy_ checks its sigma."""
    def run(lib):
        if call == "normal":
            return lib.normal(0.0, spread, (3,))
        x = lib.zeros(3)
        return getattr(x, call)(spread) if call == "exponential_" else getattr(x, call)(0.0, spread)
    same_outcome(run)


@pytest.mark.parametrize("fill", ["normal_", "uniform_", "bernoulli_", "kaiming_uniform_", "xavier_normal_"])
def test_random_fill_of_an_inference_tensor(fill):
    """Filling an inference tensor outside inference_mode is refused (normal_, uniform_ and bernoulli_ filled it)."""
    def run(lib):
        with lib.inference_mode():
            x = lib.zeros(3, 4)
        if fill.endswith("_") and hasattr(lib.nn.init, fill) and fill not in ("normal_", "uniform_"):
            return getattr(lib.nn.init, fill)(x)
        return getattr(x, fill)()
    same_outcome(run)
