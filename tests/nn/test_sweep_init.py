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
