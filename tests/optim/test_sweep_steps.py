"""Optimizer steps against torch 2.13: every optimizer class of torch.optim over its constructor options (lr as a
float and as a Tensor, foreach, fused, capturable, differentiable, maximize, weight decay, betas, ...) in float32,
float64 and complex64, and LBFGS with closures and line search: the parameters after four steps and the whole
state_dict (keys, dtypes, values), or the error PyTorch raises (capturable on the CPU, differentiable on leaves);
every differentiable step (the optimizers that take the option) on non-leaf parameters, real and complex, with
gradients through them."""
import numpy
import pytest

from tests.optim import sweep_cases as cases
from tests.optim.sweep import check


def _ids(table):
    return [(name, kwargs) for name, variants in table.items() for kwargs in variants]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, kwargs", _ids(cases.CASES), ids=repr)
def test_steps(name, kwargs, dtype):
    check(lambda L: cases.run(L, name, kwargs, dtype=dtype)[:2])


@pytest.mark.parametrize("name, kwargs", _ids(cases.COMPLEX), ids=repr)
def test_complex_steps(name, kwargs):
    check(lambda L: cases.run(L, name, kwargs, dtype="complex64")[:2])


@pytest.mark.parametrize("kwargs", cases.LBFGS, ids=repr)
def test_lbfgs(kwargs):
    check(lambda L: cases.run(L, "LBFGS", kwargs, dtype="float64", closure=True, steps=2))


def test_lbfgs_float32():
    # float32 L-BFGS is chaotic near its minimum (curvature pairs of 1e6 from differences of nearly equal
    # gradients), so a few iterations only
    check(lambda L: cases.run(L, "LBFGS", dict(max_iter=2), dtype="float32", closure=True, steps=1), rtol=1e-4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", cases.MUON, ids=repr)
def test_muon(kwargs, dtype):
    check(lambda L: cases.run(L, "Muon", kwargs, dtype=dtype, shapes=((3, 4), (5, 2)))[:2])


def test_muon_vector():
    check(lambda L: cases.run(L, "Muon", {}, shapes=((3, 4), (5,)))[:2])


@pytest.mark.parametrize("foreach", [None, True])
@pytest.mark.parametrize("shapes", [((),), ((2, 3, 4),), ((0,), (3,)), ((1, 5),)], ids=repr)
@pytest.mark.parametrize("name", list(cases.CASES))
def test_shapes(name, shapes, foreach):
    kwargs = dict(foreach=foreach, **(dict(lr=0.1, momentum=0.9) if name == "SGD" else {}))
    check(lambda L: cases.run(L, name, kwargs, shapes=shapes)[:2])


def recorded(name, kwargs, lr_tensor=False, complex_=False, steps=3):
    """Differentiable steps of a non-leaf parameter (grads that depend on it in the second one); the result, its
    gradient back to the leaf it came from (and to a Tensor lr) and the state."""
    def program(L):
        rng = numpy.random.default_rng(0)
        start = rng.uniform(-1, 1, (3, 4)) + (1j * rng.uniform(-1, 1, (3, 4)) if complex_ else 0)
        w0 = L.tensor(start, requires_grad=True)
        lr = L.tensor(0.1, dtype=L.float64, requires_grad=True) if lr_tensor else 0.1
        p = w0 * 1.0
        opt = getattr(L.optim, name)([p], differentiable=True, lr=lr, **kwargs)
        for i in range(steps):
            p.grad = p * 2.0 if i == 1 else ((p * (i + 1.5)) if complex_ else (p * p * (i + 1))).detach()
            opt.step()
        inputs = [w0, lr] if lr_tensor else [w0]
        return p, L.autograd.grad((p * p.conj()).real.sum(), inputs), opt.state_dict()["state"]
    return program


RECORDED = [("SGD", {}, False), ("SGD", dict(momentum=0.9), False),
            ("SGD", dict(momentum=0.9, nesterov=True, weight_decay=0.1), False),
            ("SGD", dict(momentum=0.5, dampening=0.3, maximize=True), False), ("SGD", {}, True),
            ("Adam", {}, False), ("Adam", dict(weight_decay=0.1), False), ("AdamW", {}, False),
            ("Adam", dict(maximize=True, betas=(0.5, 0.6)), False), ("Adam", {}, True), ("RMSprop", {}, False),
            ("RMSprop", dict(centered=True, momentum=0.9, weight_decay=0.1), False),
            ("RMSprop", dict(maximize=True, alpha=0.5), False), ("Adagrad", {}, False),
            ("Adagrad", dict(lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.2), False),
            ("Adagrad", dict(maximize=True), False), ("Adadelta", {}, False),
            ("Adadelta", dict(rho=0.5, weight_decay=0.1, maximize=True), False), ("NAdam", {}, False),
            ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True, maximize=True), False),
            ("NAdam", dict(weight_decay=0.1), False), ("RAdam", {}, False),
            ("RAdam", dict(weight_decay=0.1, decoupled_weight_decay=True, maximize=True, betas=(0.5, 0.6)), False),
            ("ASGD", {}, False), ("ASGD", dict(t0=1, lambd=0.1, weight_decay=0.1, maximize=True), False)]
# one step: across two, PyTorch's autograd refuses these (a state tensor saved by the first step is changed in place
# by the next, which ember's autograd does not detect)
ONE_STEP = [("Adamax", {}), ("Adamax", dict(betas=(0.5, 0.6), weight_decay=0.1, maximize=True)), ("Rprop", {}),
            ("Rprop", dict(maximize=True, etas=(0.3, 1.5)))]


@pytest.mark.parametrize("name, kwargs, lr_tensor", RECORDED, ids=repr)
def test_differentiable(name, kwargs, lr_tensor):
    check(recorded(name, kwargs, lr_tensor))


@pytest.mark.parametrize("name, kwargs", ONE_STEP, ids=repr)
def test_differentiable_one_step(name, kwargs):
    check(recorded(name, kwargs, steps=1))
    check(recorded(name, kwargs, complex_=True, steps=1))


@pytest.mark.parametrize("name, kwargs", [("SGD", dict(momentum=0.9)), ("Adam", {}), ("RMSprop", {}), ("Adagrad", {}),
                                          ("Adadelta", {}), ("NAdam", {}), ("RAdam", {}), ("ASGD", {})], ids=repr)
def test_differentiable_complex(name, kwargs):
    check(recorded(name, kwargs, complex_=True))


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adadelta", "Adagrad", "Adamax", "ASGD", "NAdam", "RAdam",
                                  "RMSprop", "Rprop"])
def test_differentiable_foreach(name):
    check(recorded(name, dict(foreach=True), steps=1))
