"""Smaller top-level names against torch: ``cond`` / ``while_loop`` run eagerly, ``nonzero_static``,
``empty_permuted``, ``fill``, the in-place functions ``i0_`` / ``sinc_`` / ``detach_`` / ``addmv_``,
``get_device_module`` and ``init_num_threads``."""
import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same, check, check_error, sample

x2 = sample((2, 3))


def test_cond_takes_the_branch_and_records_its_gradient():
    for pred in (True, False, 0.0, numpy.array(True), numpy.array([False])):
        check(lambda lib, x, p=pred: lib.cond(lib.tensor(p) if isinstance(p, numpy.ndarray) else p,
                                              lambda a: (a * 3).sin(), lambda a: a.cos() * 2, (x,)), x2)
    check(lambda lib, x: lib.cond(True, lambda a, b: (a + b, a * b), lambda a, b: (a, b), [x, x]), x2)


def test_cond_errors():
    check_error(lambda lib, x: lib.cond(lib.tensor([True, False]), lambda a: a, lambda a: a, (x,)), x2,
                match="Expected pred to be bool or single-element tensor")
    check_error(lambda lib, x: lib.cond(lib.tensor(True), 3, lambda a: a, (x,)), x2,
                match="Expect both branches to be callable")
    check_error(lambda lib, x: lib.cond(lib.tensor(True), lambda a: a, lambda a: a, (x, 3)), x2,
                match="Expect operands to be a tuple")
    check_error(lambda lib, x: lib.cond("yes", lambda a: a, lambda a: a, (x,)), x2,
                match="Expected pred to be bool or tensor")


def test_while_loop():
    def call(lib, x):
        return lib.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * 2 + 1), (lib.tensor(0), x))
    check(call, x2)
    check(lambda lib, x: lib.while_loop(lambda a: a.sum() > 100, lambda a: (a + 1,), (x,)), x2)   # never runs
    e = ember.while_loop(lambda i: i < 4, lambda i: i + 1, (ember.tensor(0),))
    t = torch.while_loop(lambda i: i < 4, lambda i: i + 1, (torch.tensor(0),))
    assert_same(e, t)
    check_error(lambda lib, x: lib.while_loop(lambda a: a, 3, (x,)), x2, match="Expect cond_fn and body_fn")
    check_error(lambda lib, x: lib.while_loop(lambda a: a, lambda a: a, (x, "s")), x2,
                match="can only be of")


@pytest.mark.parametrize("values", [numpy.array([0, 1, 0, 2]), numpy.array([[0, 1.5], [1, 1]]),
                                    numpy.array([True, False, True]), numpy.zeros((0, 3)), numpy.array(3),
                                    numpy.array(0)])
@pytest.mark.parametrize("size", [0, 1, 3, 5])
def test_nonzero_static(values, size):
    check(lambda lib, x: lib.nonzero_static(x, size=size), values, grad=False)
    check(lambda lib, x: x.nonzero_static(size=size, fill_value=7), values, grad=False)


def test_nonzero_static_errors():
    check_error(lambda lib, x: lib.nonzero_static(x, size=-1), x2, match="must be an non-negative integer")
    check_error(lambda lib, x: lib.nonzero_static(x, size=2.0), x2, match="argument 'size' must be int")
    check_error(lambda lib, x: lib.nonzero_static(x, size=2, fill_value=0.5), x2,
                match="argument 'fill_value' must be int")


@pytest.mark.parametrize("layout", [(0, 1, 2, 3), (0, 2, 3, 1), (3, 1, 0, 2)])
def test_empty_permuted_strides(layout):
    e = ember.empty_permuted((2, 3, 4, 5), layout, dtype=ember.float64, requires_grad=True)
    t = torch.empty_permuted((2, 3, 4, 5), layout, dtype=torch.float64, requires_grad=True)
    assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride() and e.dtype == ember.float64
    assert e.requires_grad and e.is_leaf


def test_empty_permuted_errors():
    check_error(lambda lib: lib.empty_permuted((2, 3), (0, 0)), match="Duplicate dim not allowed")
    check_error(lambda lib: lib.empty_permuted((2, 3), (0,)), match="does not match the length of the physical")
    check_error(lambda lib: lib.empty_permuted((2, 3), (0, 2)), match="Dimension out of range")


def test_fill():
    check(lambda lib, x: lib.fill(x, 3), x2)
    check(lambda lib, x, v: lib.fill(x, v), x2, numpy.array(4.0), rtol=1e-6)
    check_error(lambda lib, x: lib.fill(x, lib.ones(2)), x2, match="only supports 0-dimension value tensor")


def test_inplace_functions():
    check(lambda lib, x: lib.i0_(x.clone()), x2)
    check(lambda lib, x: lib.sinc_(x.clone()), x2)
    check(lambda lib, x, m, v: lib.addmv_(x.clone(), m, v, beta=0.5, alpha=2), sample((3,)), sample((3, 4)),
          sample((4,)))
    for lib in (ember, torch):
        y = lib.ones(2, requires_grad=True) * 2
        assert lib.detach_(y) is y and y.grad_fn is None and not y.requires_grad


def test_get_device_module_and_init_num_threads():
    assert ember.get_device_module() is ember.cpu and ember.get_device_module("cpu") is ember.cpu
    assert ember.get_device_module(ember.device("cuda")) is ember.cuda
    assert ember.init_num_threads() is None
    check_error(lambda lib: lib.get_device_module("meta"), match="does not have a corresponding module")
    check_error(lambda lib: lib.get_device_module(3), match="Invalid value of device")


def test_as_strided_scatter_values_and_layout():
    check(lambda lib, x, s: lib.as_strided_scatter(x, s, (2, 2), (1, 2), 1), sample((6,)), sample((2, 2)),
          grad=False)
    check(lambda lib, x, s: lib.as_strided_scatter(x.reshape(2, 3).t(), s, (2,), (1,)), sample((6,)), sample((2,)),
          grad=False)   # the copy keeps the transposed layout, so the positions are those of its memory
    check_error(lambda lib, x, s: lib.as_strided_scatter(x, s, (2, 2), (1, 2)), sample((6,)), sample((3,)),
                match="expected src to have a size equal to the slice of self")


def test_as_strided_scatter_gradients_by_finite_differences():
    # PyTorch 2.13's AsStridedScatterBackward0 gives the input the gradient of the positions src replaced and
    # zero elsewhere, the complement of the derivative; ember's are the derivatives (gradcheck) and src's as torch's
    from tests.oracle import gradcheck
    gradcheck(lambda lib, x, s: lib.as_strided_scatter(x * 1, s, (2, 2), (1, 2), 1), sample((6,)).astype(numpy.float64),
              sample((2, 2)).astype(numpy.float64))
    e = ember.as_strided_scatter(ember.zeros(6), ember.ones(2, 2, requires_grad=True), (2, 2), (1, 2))
    assert e.grad_fn.name() == "AsStridedScatterBackward0"


def test_as_strided_inplace():
    for lib in (ember, torch):
        a = lib.arange(6.0)
        assert a.as_strided_((2, 2), (1, 2), 1) is a
        assert a.tolist() == [[1.0, 3.0], [2.0, 4.0]] and a.stride() == (1, 2)


def test_as_subclass_shares_memory_and_gradient():
    class Marked(ember.Tensor):
        pass
    x = ember.ones(3, requires_grad=True)
    y = x.as_subclass(Marked)
    assert type(y) is Marked and y.data_ptr() == x.data_ptr() and y.grad_fn.name() == "AliasBackward0"
    (y * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    check_error(lambda lib, x: x.as_subclass(int), x2, match="does not inherit from Tensor")


def test_map2_module_load_and_kind_flags():
    for lib in (ember, torch):
        c = lib.ones(3)
        c.map2_(lib.ones(3) * 2, lib.tensor([3.0]), lambda a, b, d: a + b * d)
        assert c.tolist() == [7.0] * 3
        target = lib.zeros(3)
        loaded = target.module_load(lib.full((3,), 2.0))
        assert loaded.tolist() == target.tolist() == [2.0] * 3
        assert target.module_load(lib.ones(2), assign=True).tolist() == [1.0, 1.0]
        assert not any(getattr(lib.ones(1), f"is_{kind}") for kind in ("nested", "mkldnn", "xla", "mps", "vulkan"))
