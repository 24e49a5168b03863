"""Optimizer steps with PyTorch's raw bits: params and state after 20 steps, float32 and float64, per-parameter and
foreach paths (PyTorch's multi-tensor NAdam and RAdam order their ops differently from the single-tensor ones), and
the fused kernels of SGD, Adam, AdamW and Adagrad (whose scalar tails fuse some steps differently).

PyTorch's CPU ``sqrt`` is MKL's vsSqrt, which is not correctly rounded (about 16% of float32 results, 1.3% of
float64 ones, one ulp off); ember's is NumPy's, correctly rounded. Optimizers that take a square root are compared
with torch's sqrt replaced by a correctly rounded one, which checks every other op of the step, each fused
multiply-add included; those without one (SGD, Adamax, ASGD, Rprop) and the fused kernels (their own, correctly
rounded sqrt) are compared with torch as it is. Adam and AdamW off their fused kernels leave out the fusing of
lerp_ and addcmul_ (``UNFUSED_OFF_KERNEL``); RMSprop, Adadelta, NAdam, RAdam and Adagrad off its fused kernel leave
out addcmul_'s (``UNFUSED_ADDCMUL``): they are compared with torch's ops patched to round likewise.
"""
import numpy
import pytest
import torch

import ember

# sizes around the vector widths (the tails of ATen's loops), a matrix and a 0-d parameter
SHAPES = [(1,), (7,), (33,), (257,), (1000,), (16, 40), ()]

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 1e-2}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-2, "maximize": True}),
    ("Adam", {"lr": 1e-2}),
    ("Adam", {"lr": 1e-2, "amsgrad": True, "weight_decay": 1e-2, "maximize": True}),
    ("AdamW", {"lr": 1e-2, "amsgrad": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 1e-2}),
    ("RMSprop", {"lr": 1e-2, "momentum": 0.9, "centered": True, "weight_decay": 1e-2}),
    ("Adagrad", {"lr": 1e-2, "lr_decay": 1e-3, "weight_decay": 1e-2, "initial_accumulator_value": 0.1}),
    ("Adamax", {"lr": 1e-2, "weight_decay": 1e-2, "maximize": True}),
    ("NAdam", {"lr": 1e-2}),
    ("NAdam", {"lr": 1e-2, "weight_decay": 1e-2, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 1e-2, "weight_decay": 1e-2}),
    ("RAdam", {"lr": 1e-2, "weight_decay": 1e-2, "decoupled_weight_decay": True}),
    ("Adadelta", {"lr": 0.5, "weight_decay": 1e-2, "rho": 0.8}),
    ("ASGD", {"lr": 1e-2}),
    ("ASGD", {"lr": 1e-2, "weight_decay": 1e-2, "t0": 5, "maximize": True}),
    ("Rprop", {"lr": 1e-2, "maximize": True}),
]
WITHOUT_SQRT = ("SGD", "Adamax", "ASGD", "Rprop")
FUSED = ("SGD", "Adam", "AdamW", "Adagrad")   # their fused CPU kernels take a correctly rounded sqrt
UNFUSED_OFF_KERNEL = ("Adam", "AdamW")
"""Off their fused kernels these leave out the multiply-adds' fusing (PyTorch's step goes through its MKL sqrt, whose
bits are out of reach, and fusing cost ~70 % of ember's step): compared with torch's lerp and addcmul rounding the
product before the add."""
UNFUSED_ADDCMUL = ("RMSprop", "Adadelta", "NAdam", "RAdam", "Adagrad") + UNFUSED_OFF_KERNEL
"""These round addcmul_'s product before its add, for the same reason (fusing made their steps 1.6-2x slower):
compared bit for bit with torch's addcmul_ rounding it too, which checks every other op of the step."""


@pytest.fixture
def exact_torch_sqrt(monkeypatch):
    """torch's sqrt (Tensor methods and the foreach forms) correctly rounded, as NumPy's."""
    def sqrt(self):
        return torch.from_numpy(numpy.asarray(numpy.sqrt(self.detach().numpy())))

    def sqrt_(self):
        return self.copy_(sqrt(self))
    monkeypatch.setattr(torch.Tensor, "sqrt", sqrt)
    monkeypatch.setattr(torch.Tensor, "sqrt_", sqrt_)
    monkeypatch.setattr(torch, "_foreach_sqrt", lambda tensors: [sqrt(t) for t in tensors])
    monkeypatch.setattr(torch, "_foreach_sqrt_", lambda tensors: [sqrt_(t) for t in tensors])


@pytest.fixture
def unfused_torch_addcmul(monkeypatch):
    """torch's addcmul (the Tensor methods and the foreach forms) with ``value * tensor1 * tensor2`` rounded before
    the add."""
    def addcmul(self, tensor1, tensor2, value=1):
        return self + tensor1 * value * tensor2

    def addcmul_(self, tensor1, tensor2, value=1):
        return self.add_(tensor1 * value * tensor2)
    monkeypatch.setattr(torch.Tensor, "addcmul", addcmul)
    monkeypatch.setattr(torch.Tensor, "addcmul_", addcmul_)
    monkeypatch.setattr(torch, "_foreach_addcmul",
                        lambda selves, ones, twos, value=1: [addcmul(*ts, value) for ts in zip(selves, ones, twos)])
    monkeypatch.setattr(torch, "_foreach_addcmul_",
                        lambda selves, ones, twos, value=1: [addcmul_(*ts, value) for ts in zip(selves, ones, twos)])


@pytest.fixture
def unfused_torch_lerp(monkeypatch):
    """torch's lerp_ (the Tensor method and the foreach form) for weights below 0.5 as ``start + (end - start) *
    weight``, the product rounded before the add."""
    def lerp_(self, end, weight):
        assert abs(weight) < 0.5
        return self.add_((end - self) * weight)
    monkeypatch.setattr(torch.Tensor, "lerp_", lerp_)
    monkeypatch.setattr(torch, "_foreach_lerp_",
                        lambda selves, ends, weight: [lerp_(s, e, weight) for s, e in zip(selves, ends)])


def _run(lib, name, options, dtype, mode, steps=20):
    """The params and state tensors (as arrays) after ``steps`` steps on seeded parameters and gradients; ``mode``
    is the value of ``foreach``, or "fused"."""
    rng = numpy.random.default_rng(0)
    params = [lib.from_numpy(numpy.asarray(rng.standard_normal(shape), dtype=dtype)).requires_grad_()
              for shape in SHAPES]
    optimizer = getattr(lib.optim, name)(params, **options,
                                         **({"fused": True} if mode == "fused" else {"foreach": mode}))
    for _ in range(steps):
        for p in params:
            p.grad = lib.from_numpy(numpy.asarray(rng.standard_normal(p.shape), dtype=dtype))
        optimizer.step()
    arrays = [p.detach().numpy().copy() for p in params]
    for p in params:
        arrays += [value.numpy().copy() for _, value in sorted(optimizer.state[p].items())
                   if isinstance(value, lib.Tensor)]
    return arrays


def _assert_same_bits(ember_arrays, torch_arrays):
    assert len(ember_arrays) == len(torch_arrays)
    for i, (e, t) in enumerate(zip(ember_arrays, torch_arrays)):
        assert e.dtype == t.dtype and e.shape == t.shape, i
        unsigned = f"u{e.itemsize}"
        differing = numpy.count_nonzero(numpy.ascontiguousarray(e).view(unsigned) !=
                                        numpy.ascontiguousarray(t).view(unsigned))
        assert differing == 0, f"array {i}: {differing} of {e.size} elements differ"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", [False, True, "fused"])
@pytest.mark.parametrize("name,options", CASES)
def test_step_bits_match_torch(name, options, mode, dtype, request):
    if mode == "fused" and name not in FUSED:
        pytest.skip(f"PyTorch has no fused {name}")
    if name not in WITHOUT_SQRT and mode != "fused":
        request.getfixturevalue("exact_torch_sqrt")
    if name in UNFUSED_ADDCMUL and mode != "fused":
        request.getfixturevalue("unfused_torch_addcmul")
    if name in UNFUSED_OFF_KERNEL and mode != "fused":
        request.getfixturevalue("unfused_torch_lerp")
    ours, theirs = _run(ember, name, options, dtype, mode), _run(torch, name, options, dtype, mode)
    _assert_same_bits(ours, theirs)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_step_bits_without_blas_axpy(monkeypatch, dtype):
    """The NumPy fused multiply-add that stands in where BLAS's axpy does not round once gives the same bits."""
    from ember.optim import _kernels
    monkeypatch.setattr(_kernels, "_blas_axpy", lambda char: None)
    options = {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 1e-2}
    _assert_same_bits(_run(ember, "SGD", options, dtype, False), _run(torch, "SGD", options, dtype, False))
