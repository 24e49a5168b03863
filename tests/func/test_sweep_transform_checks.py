"""Checks of torch.func's transforms a differential sweep against PyTorch 2.13 found apart: a has_aux function's aux
must hold only tensors; jvp gives integer and bool outputs zero tangents of their dtype; jacrev refuses integer
outputs and jacfwd integer inputs with vjp's and make_dual's errors; vjp_fn refuses a cotangent that is no tensor;
backward() inside any transform raises PyTorch's error; debug_unwrap gives a batched tensor's physical tensor;
functionalize returns an unmutated input itself. Each program runs on ember and on torch."""
import pytest

from tests.optim.sweep import check


def _x(L):
    return L.tensor([[0.5, -1.0], [2.0, 0.25]])


def _backward_inside(L):
    w = L.ones(2, requires_grad=True)

    def f(x):
        (w * 2).sum().backward()
        return x.sum()
    return f


AUX = {
    "grad, int aux": lambda L: L.func.grad(lambda x: (x.sum(), 1), has_aux=True)(_x(L)),
    "grad, None aux": lambda L: L.func.grad(lambda x: (x.sum(), None), has_aux=True)(_x(L)),
    "grad, str in a dict aux": lambda L: L.func.grad(lambda x: (x.sum(), {"a": x, "b": "s"}), has_aux=True)(_x(L)),
    "grad, non-scalar output and int aux": lambda L: L.func.grad(lambda x: (x, 1), has_aux=True)(_x(L)),
    "grad_and_value, tensor aux": lambda L: L.func.grad_and_value(lambda x: (x.sum(), {"a": [x * 2]}),
                                                                  has_aux=True)(_x(L)),
    "vjp, int aux": lambda L: L.func.vjp(lambda x: (x.sum(), 1), _x(L), has_aux=True)[2],
    "jvp, float aux": lambda L: L.func.jvp(lambda x: (x, 1.0), (_x(L),), (_x(L),), has_aux=True),
    "jacrev, int in a list aux": lambda L: L.func.jacrev(lambda x: (x, [x, 1]), has_aux=True)(_x(L)),
    "jacfwd, int in a tuple aux": lambda L: L.func.jacfwd(lambda x: (x, (x, 1)), has_aux=True)(_x(L)),
    "jacfwd different, int aux": lambda L: L.func.jacfwd(lambda x: (x, (x, 1)), has_aux=True,
                                                         randomness="different")(_x(L)),
}
DTYPES = {
    "jvp, int and float outputs": lambda L: L.func.jvp(lambda x: (x.argmax(), x * 2), (_x(L),), (L.ones(2, 2),)),
    "jvp, bool output": lambda L: L.func.jvp(lambda x: x > 0, (_x(L),), (L.ones(2, 2),)),
    "jvp, int output, strict": lambda L: L.func.jvp(lambda x: (x > 0).long(), (_x(L),), (L.ones(2, 2),),
                                                    strict=True),
    "jvp, int output, primal requiring grad": lambda L: L.func.jvp(
        lambda x: (x.argmin(), x.exp()), (_x(L).requires_grad_(),), (L.ones(2, 2),)),
    "jvp in vmap, int output": lambda L: L.vmap(lambda t: L.func.jvp(lambda x: (x * 3, x.argmax()), (_x(L),),
                                                                     (t,)))(L.ones(3, 2, 2)),
    "jacrev, int output": lambda L: L.func.jacrev(lambda x: x.argmax())(_x(L)),
    "jacfwd, int input": lambda L: L.func.jacfwd(lambda x: x * 2)(L.arange(3)),
    "jacfwd, int second input": lambda L: L.func.jacfwd(lambda x, y: x * y, argnums=(0, 1))(L.ones(3),
                                                                                           L.arange(3)),
    "hessian, int input": lambda L: L.func.hessian(lambda x: x.sum())(L.arange(3)),
}
COTANGENTS = {
    "float": lambda L: L.func.vjp(lambda x: x.sin(), L.ones(3))[1](1.0),
    "float in a tuple": lambda L: L.func.vjp(lambda x: (x.sin(), x * 2), L.ones(3))[1]((L.ones(3), 2)),
    "None": lambda L: L.func.vjp(lambda x: x.sin(), L.ones(3))[1](None),
    "None in a tuple": lambda L: L.func.vjp(lambda x: (x.sin(), x), L.ones(3))[1]((None, L.ones(3))),
}
BACKWARD = {
    "grad": lambda L: L.func.grad(lambda x: x.sum().backward())(L.ones(2)),
    "grad, an unrelated graph": lambda L: L.func.grad(_backward_inside(L))(L.ones(2)),
    "vmap": lambda L: L.vmap(_backward_inside(L))(L.ones(3, 2)),
    "vjp": lambda L: L.func.vjp(_backward_inside(L), L.ones(2)),
    "jvp": lambda L: L.func.jvp(_backward_inside(L), (L.ones(2),), (L.ones(2),)),
    "jacrev": lambda L: L.func.jacrev(_backward_inside(L))(L.ones(2)),
    "autograd.backward": lambda L: L.func.grad(lambda x: L.autograd.backward(x.sum()))(L.ones(2)),
    "functionalize": lambda L: L.func.functionalize(_backward_inside(L))(L.ones(2)),
    "after the transform": lambda L: (L.func.grad(lambda x: x.sum())(L.ones(2)), _backward_inside(L)(L.ones(2))),
}


@pytest.mark.parametrize("name", AUX)
def test_aux_holds_only_tensors_as_torch(name):
    check(AUX[name], warns=False)


@pytest.mark.parametrize("name", DTYPES)
def test_integer_inputs_and_outputs_as_torch(name):
    check(DTYPES[name], warns=False)


@pytest.mark.parametrize("name", COTANGENTS)
def test_vjp_cotangents_as_torch(name):
    check(COTANGENTS[name], warns=False)


@pytest.mark.parametrize("name", BACKWARD)
def test_backward_inside_a_transform_as_torch(name):
    check(BACKWARD[name], warns=False)


DEBUG_UNWRAP = {
    "inside vmap": lambda L: L.vmap(lambda r: L.func.debug_unwrap(r) * 1)(L.ones(3, 2)),
    "inside vmap, in_dims=1": lambda L: L.vmap(lambda r: L.func.debug_unwrap(r) * 1, in_dims=1)(
        L.arange(6.0).reshape(2, 3)),
    "one level of two": lambda L: L.vmap(L.vmap(lambda r: L.func.debug_unwrap(r, recurse=False) * 1))(
        L.arange(24.0).reshape(4, 3, 2)),
    "every level of two": lambda L: L.vmap(L.vmap(lambda r: L.func.debug_unwrap(r) * 1))(
        L.arange(24.0).reshape(4, 3, 2)),
    "a plain tensor": lambda L: L.func.debug_unwrap(L.ones(2, requires_grad=True)).requires_grad,
}


@pytest.mark.parametrize("name", DEBUG_UNWRAP)
def test_debug_unwrap_as_torch(name):
    check(DEBUG_UNWRAP[name], warns=False)


def _functionalized(L, func, remove="mutations", requires_grad=False):
    x = L.arange(4.0, requires_grad=requires_grad)
    out = L.func.functionalize(func, remove=remove)(x)
    outs = out if isinstance(out, tuple) else (out,)
    return [(o is x, o.data_ptr() == x.data_ptr()) for o in outs], out


FUNCTIONALIZE = {
    "an input returned": lambda L: _functionalized(L, lambda x: x),
    "an input returned, mutations_and_views": lambda L: _functionalized(L, lambda x: x, "mutations_and_views"),
    "an input requiring grad returned": lambda L: _functionalized(L, lambda x: x, requires_grad=True),
    "a mutated input returned": lambda L: _functionalized(L, lambda x: x.add_(1)),
    "a view returned": lambda L: _functionalized(L, lambda x: x.view(-1)),
    "an input in a tuple": lambda L: _functionalized(L, lambda x: (x, x * 2)),
    "a detached input": lambda L: _functionalized(L, lambda x: x.detach()),
    "a mutated input twice in a tuple": lambda L: _functionalized(L, lambda x: (x.mul_(2), x)),
}


@pytest.mark.parametrize("name", FUNCTIONALIZE)
def test_functionalize_returns_inputs_as_torch(name):
    check(FUNCTIONALIZE[name], warns=False)
