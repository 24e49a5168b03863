"""Activation modules beside PyTorch's: constructor parameters, printed forms, the deprecated Hardtanh keywords,
and in-place Mish."""
import inspect
import warnings

import pytest
import torch

import ember

NAMES = ["Hardswish", "Hardsigmoid", "SiLU", "Mish", "ReLU6", "Hardtanh", "ELU", "GELU", "SELU", "CELU", "LeakyReLU",
         "RReLU", "Threshold", "Softplus", "Tanhshrink", "Softsign", "LogSigmoid", "GLU", "PReLU", "ReLU", "Sigmoid",
         "Tanh", "Softmax", "LogSoftmax", "Softmin", "Softshrink", "Hardshrink", "Softmax2d"]


def _parameters(cls):
    return [(p.name, p.default) for p in inspect.signature(cls.__init__).parameters.values()]


@pytest.mark.parametrize("name", NAMES)
def test_constructor_parameters_as_pytorch(name):
    assert _parameters(getattr(ember.nn, name)) == _parameters(getattr(torch.nn, name))


BUILT = {"inplace": lambda nn, name: getattr(nn, name)(inplace=True), "default": lambda nn, name: getattr(nn, name)()}


@pytest.mark.parametrize("name", ["Hardswish", "Hardsigmoid", "SiLU", "Mish", "ReLU6", "Hardtanh", "ELU", "SELU",
                                  "CELU", "LeakyReLU", "RReLU", "ReLU"])
@pytest.mark.parametrize("how", BUILT)
def test_printed_as_pytorch(name, how):
    assert repr(BUILT[how](ember.nn, name)) == repr(BUILT[how](torch.nn, name))


def test_hardtanh_deprecated_keywords_and_check():
    for library in (ember, torch):
        with pytest.warns(FutureWarning) as caught:
            module = library.nn.Hardtanh(min_value=-2.0, max_value=3.0)
        assert [str(w.message) for w in caught] == ["keyword argument `min_value` is deprecated and renamed to "
                                                    "`min_val`", "keyword argument `max_value` is deprecated and "
                                                    "renamed to `max_val`"]
        assert (module.min_val, module.max_val) == (-2.0, 3.0)
        with pytest.raises(AssertionError, match=r"max_val \(1.0\) must be greater than min_val \(2.0\)"):
            library.nn.Hardtanh(2.0, 1.0)


def test_inplace_mish_writes_into_its_input():
    results = []
    for library in (ember, torch):
        x = library.tensor([-1.0, 0.5, 2.0])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = library.nn.Mish(inplace=True)(x)
        results.append((out.tolist(), x.tolist()))
    assert results[0][0] == pytest.approx(results[1][0]) and results[0][1] == pytest.approx(results[1][1])
