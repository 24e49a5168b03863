"""torch.utils.cpp_extension's names as libraries probe them: the toolchain constants as PyTorch finds them, and the
builders raising a RuntimeError (ember has no C++ API), which code loading optional kernels in ``try`` catches."""
import pytest
import torch.utils.cpp_extension as theirs

import ember.utils.cpp_extension as ours


def test_constants_as_torch():
    for name in ("CUDA_HOME", "ROCM_HOME", "SYCL_HOME", "IS_WINDOWS", "IS_MACOS", "IS_LINUX", "IS_HIP_EXTENSION"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.is_ninja_available() == theirs.is_ninja_available()
    assert set(ours.__all__) - {"BuildExtension"} <= set(dir(theirs))   # (torch defines it where setuptools imports)


@pytest.mark.parametrize("build", [lambda: ours.load("fbd", ["a.cpp", "b.cu"], verbose=True),
                                   lambda: ours.load_inline("inl", "int f() { return 1; }", functions=["f"]),
                                   lambda: ours.CppExtension("e", ["a.cpp"]), lambda: ours.CUDAExtension("e", ["a.cu"]),
                                   lambda: ours.BuildExtension.with_options(use_ninja=False)()])
def test_builders_raise_a_runtime_error(build):
    with pytest.raises(RuntimeError, match="ember cannot build .*PyTorch's C\\+\\+ API"):
        build()
