"""Grad-mode switches against PyTorch: context managers, decorators (with and without parentheses), nesting."""
import pytest
import torch

import ember


@pytest.fixture(params=["torch", "ember"])
def lib(request):
    return torch if request.param == "torch" else ember


def records(lib, x):
    return (x * 2).requires_grad


def test_no_grad_context(lib):
    x = lib.ones(2, requires_grad=True)
    with lib.no_grad():
        assert not lib.is_grad_enabled()
        assert not records(lib, x)
    assert lib.is_grad_enabled() and records(lib, x)


def test_enable_grad_inside_no_grad(lib):
    x = lib.ones(2, requires_grad=True)
    with lib.no_grad():
        with lib.enable_grad():
            assert records(lib, x)
        assert not records(lib, x)


def test_set_grad_enabled_as_function_and_context(lib):
    x = lib.ones(2, requires_grad=True)
    lib.set_grad_enabled(False)
    try:
        assert not records(lib, x)
    finally:
        lib.set_grad_enabled(True)
    assert records(lib, x)
    with lib.set_grad_enabled(False):
        assert not records(lib, x)
        with lib.set_grad_enabled(True):
            assert records(lib, x)
        assert not records(lib, x)
    assert records(lib, x)


@pytest.mark.parametrize("make", [lambda lib: lib.no_grad(), lambda lib: lib.no_grad,
                                  lambda lib: lib.set_grad_enabled(False), lambda lib: lib.inference_mode(),
                                  lambda lib: lib.inference_mode],
                         ids=["no_grad()", "no_grad", "set_grad_enabled(False)", "inference_mode()", "inference_mode"])
def test_decorators_that_turn_grad_off(lib, make):
    @make(lib)
    def double(x):
        """Doubles."""
        return x * 2

    assert lib.is_grad_enabled()
    x = lib.ones(2, requires_grad=True)
    assert not double(x).requires_grad
    assert lib.is_grad_enabled()
    assert double.__name__ == "double" and double.__doc__ == "Doubles."


@pytest.mark.parametrize("make", [lambda lib: lib.enable_grad(), lambda lib: lib.enable_grad,
                                  lambda lib: lib.set_grad_enabled(True)])
def test_decorators_that_turn_grad_on(lib, make):
    @make(lib)
    def double(x):
        return x * 2

    x = lib.ones(2, requires_grad=True)
    with lib.no_grad():
        assert double(x).requires_grad
        assert not lib.is_grad_enabled()


def test_decorated_generator_runs_each_step_without_grad(lib):
    @lib.no_grad()
    def steps(x):
        yield (x * 2).requires_grad
        yield lib.is_grad_enabled()
        return "done"

    x = lib.ones(2, requires_grad=True)
    generator = steps(x)
    assert next(generator) is False
    assert lib.is_grad_enabled()
    assert next(generator) is False
    with pytest.raises(StopIteration) as stop:
        next(generator)
    assert stop.value.value == "done"
    assert lib.is_grad_enabled()


def test_inference_mode_and_its_flag(lib):
    x = lib.ones(2, requires_grad=True)
    with lib.inference_mode():
        assert lib.is_inference_mode_enabled() and not lib.is_grad_enabled()
        assert not records(lib, x)
        with lib.inference_mode(False):
            assert not lib.is_inference_mode_enabled() and lib.is_grad_enabled()
    assert not lib.is_inference_mode_enabled() and lib.is_grad_enabled()


def test_state_restored_after_exception(lib):
    with pytest.raises(ValueError):
        with lib.no_grad():
            raise ValueError("boom")
    assert lib.is_grad_enabled()

    @lib.no_grad()
    def fails():
        raise ValueError("boom")

    with pytest.raises(ValueError):
        fails()
    assert lib.is_grad_enabled()


def test_nesting_restores_each_level(lib):
    with lib.no_grad():
        with lib.enable_grad():
            with lib.no_grad():
                assert not lib.is_grad_enabled()
            assert lib.is_grad_enabled()
        assert not lib.is_grad_enabled()
    assert lib.is_grad_enabled()


def test_context_managers_return_none_on_enter(lib):
    with lib.no_grad() as a, lib.enable_grad() as b, lib.set_grad_enabled(True) as c, lib.inference_mode() as d:
        assert (a, b, c, d) == (None, None, None, None)


def test_backward_runs_with_grad_disabled_outside():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        with lib.no_grad():
            y.backward()
        return x.grad.tolist()
    assert scenario(ember) == scenario(torch)


def test_autograd_namespace_exports(lib):
    for name in ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "grad", "backward", "Function",
                 "gradcheck", "gradgradcheck", "detect_anomaly", "set_detect_anomaly", "functional"]:
        assert hasattr(lib.autograd, name), name
