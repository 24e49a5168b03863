"""ember.func against torch.func: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian (nested too) and
functional_call."""
import warnings

import numpy
import pytest
import torch
import torch.func

import ember
import ember.func
from tests.oracle import assert_same

# torch.func's forward-mode transforms script a helper on first use, which warns in PyTorch 2.13
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")

X = numpy.array([0.3, 1.2, -0.7])
Y = numpy.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]])


def f_scalar(lib, x, y):
    return (x.sin() * (y @ x).sum() + x.exp()).sum()


def f_vector(lib, x, y):
    return (y @ x.tanh()) * x[:2]


def both(transform, fn, *arrays, **kwargs):
    results = []
    for lib in (ember, torch):
        args = [lib.tensor(a) for a in arrays]
        results.append(transform(lib)(lambda *a: fn(lib, *a), **kwargs)(*args))
    return results


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_grad_and_grad_and_value(argnums):
    e, t = both(lambda lib: lib.func.grad, f_scalar, X, Y, argnums=argnums)
    assert_same(e, t)
    e, t = both(lambda lib: lib.func.grad_and_value, f_scalar, X, Y, argnums=argnums)
    assert_same(e, t)


def test_grad_has_aux_nesting_and_errors():
    def g(lib, x):
        return (x ** 3).sum(), {"double": x * 2}
    e, t = both(lambda lib: lib.func.grad, g, X, has_aux=True)
    assert_same(e[0], t[0]) and assert_same(e[1]["double"], t[1]["double"])
    second = [lib.func.grad(lib.func.grad(lambda x: (x ** 3).sum() if False else x ** 3))(lib.tensor(2.0))
              for lib in (ember, torch)]
    assert_same(*second)
    third = [lib.func.grad(lib.func.grad(lib.func.grad(lambda x: x.sin())))(lib.tensor(0.4, dtype=lib.float64))
             for lib in (ember, torch)]
    assert_same(*third)
    for bad in (lambda x: x * 2, lambda x: 3.0):
        with pytest.raises(RuntimeError) as expected:
            torch.func.grad(bad)(torch.ones(3))
        with pytest.raises(RuntimeError) as got:
            ember.func.grad(bad)(ember.ones(3))
        assert str(got.value) == str(expected.value).replace("torch.", "ember.")


def test_grad_through_pytrees_and_outer_autograd():
    def loss(lib, params, x):
        return ((params["w"] * x).sum() + params["b"][0]) ** 2
    results = []
    for lib in (ember, torch):
        params = {"w": lib.tensor(X), "b": lib.tensor([0.5])}
        results.append(lib.func.grad(lambda p, x: loss(lib, p, x))(params, lib.tensor(X[::-1].copy())))
    assert_same(results[0]["w"], results[1]["w"]) and assert_same(results[0]["b"], results[1]["b"])
    x = ember.tensor(X, requires_grad=True)
    g = ember.func.grad(lambda v: (v ** 3).sum())(x)   # differentiable in the outer graph
    outer, = ember.autograd.grad(g.sum(), x)
    numpy.testing.assert_allclose(outer.numpy(), 6 * X)


def test_vjp_and_jvp():
    results = []
    for lib in (ember, torch):
        x, y = lib.tensor(X), lib.tensor(Y)
        out, fn = lib.func.vjp(lambda a, b: f_vector(lib, a, b), x, y)
        cot = lib.tensor([1.0, -2.0], dtype=lib.float64)
        out2, tangent = lib.func.jvp(lambda a, b: f_vector(lib, a, b), (x, y), (lib.ones_like(x), lib.ones_like(y)))
        results.append((out, fn(cot), out2, tangent))
    for e, t in zip(*results):
        assert_same(e, t)


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_jacobians(transform, argnums):
    e, t = both(lambda lib: getattr(lib.func, transform), f_vector, X, Y, argnums=argnums)
    assert_same(e, t)


def test_hessian_and_jacobian_of_constant_outputs():
    e, t = both(lambda lib: lib.func.hessian, f_scalar, X, Y)
    assert_same(e, t)
    e, t = both(lambda lib: lib.func.hessian, f_scalar, X, Y, argnums=(0, 1))
    assert_same(e, t)
    e, t = both(lambda lib: lib.func.jacrev, lambda lib, x: x.detach() * 2, X)
    assert_same(e, t)


def test_functional_call_swaps_parameters_for_one_call():
    results = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2))
        params = {"0.weight": lib.tensor(Y), "0.bias": lib.tensor([0.1, -0.2], dtype=lib.float64),
                  "1.running_mean": lib.tensor([1.0, 2.0], dtype=lib.float64)}
        model.double().eval()
        out = lib.func.functional_call(model, params, (lib.tensor(Y),))
        assert tuple(model[0].weight.shape) == (2, 3) and model[0].weight is not params["0.weight"]
        weights = {k: v for k, v in params.items() if "running" not in k}
        grads = lib.func.grad(lambda p, x: lib.func.functional_call(model, p, (x,)).sum())(weights, lib.tensor(Y))
        results.append((out, grads["0.weight"], grads["0.bias"]))
    for e, t in zip(*results):
        assert_same(e, t)
    with pytest.raises(RuntimeError, match="Unexpected key"):
        ember.func.functional_call(ember.nn.Linear(2, 2), {"nope": ember.ones(1)}, (ember.ones(2),), strict=True)


def test_functional_call_writes_reassigned_buffers_back_into_a_dict():
    def make(lib):
        class Counter(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("count", lib.zeros(1))

            def forward(self, x):
                self.count = self.count + 1   # reassigned, not updated in place
                return x
        return Counter()
    for lib in (ember, torch):
        model, given, merged = make(lib), {"count": lib.zeros(1)}, {"count": lib.zeros(1)}
        lib.func.functional_call(model, given, (lib.ones(1),))
        lib.func.functional_call(model, (merged, {}), (lib.ones(1),))   # a sequence of dicts is merged: no write
        assert given["count"].tolist() == [1.0] and merged["count"].tolist() == [0.0]
        assert model.count.tolist() == [0.0]


def test_jacobians_of_pytree_arguments():
    """jacrev / jacfwd of dict and tuple arguments give one block per leaf, arranged as the argument (the NTK
    tutorial's ``vmap(jacrev(f), (None, 0))(params, x)``)."""
    w, b = numpy.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]]), numpy.array([0.1, -0.2])
    x = numpy.array([[0.3, 1.2, -0.7], [2.0, 0.1, 0.4]])

    def f(params, x):
        return (params["w"] @ x + params["b"][0]).tanh()

    for name in ("jacrev", "jacfwd"):
        results = []
        for lib in (ember, torch):
            params = {"w": lib.tensor(w), "b": (lib.tensor(b),)}
            transform = getattr(lib.func, name)
            results.append((lib.func.vmap(transform(f), (None, 0))(params, lib.tensor(x)),
                            transform(f, argnums=(0, 1))(params, lib.tensor(x[0]))))
        (e_one, e_both), (t_one, t_both) = results
        assert set(e_one) == {"w", "b"} and isinstance(e_one["b"], tuple)
        assert_same(e_one["w"], t_one["w"]) and assert_same(e_one["b"][0], t_one["b"][0])
        assert_same(e_both[0]["w"], t_both[0]["w"]) and assert_same(e_both[1], t_both[1])


def test_vjp_fn_called_inside_vmap():
    """A ``vjp_fn`` made outside vmap (or under fewer vmap levels) gives one product per cotangent when vmapped: the
    Jacobian by ``vmap(vjp_fn)(eye)`` and the NTK tutorial's vjp-then-jvp inside nested vmaps."""
    w, x, v = numpy.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]]), numpy.array([0.3, 1.2, -0.7]), numpy.eye(2)
    results = []
    for lib in (ember, torch):
        _, vjp_fn = lib.func.vjp(lambda x: (lib.tensor(w) @ x).sin(), lib.tensor(x))
        rows, = lib.func.vmap(vjp_fn)(lib.tensor(v))

        def ntk(x1, x2):
            out, vjp_fn = lib.func.vjp(lambda p: (p @ x1).tanh(), lib.tensor(w))
            basis = lib.eye(out.numel(), dtype=out.dtype)
            return lib.func.vmap(lambda vec: lib.func.jvp(lambda p: (p @ x2).tanh(), (lib.tensor(w),),
                                                          vjp_fn(vec))[1])(basis)
        pairs = lib.func.vmap(lib.func.vmap(ntk, (None, 0)), (0, None))(lib.tensor(Y * 0.5), lib.tensor(Y))
        results.append((rows, pairs))
    assert_same(results[0][0], results[1][0])
    assert_same(results[0][1], results[1][1])


def _raised(call):
    with pytest.raises(Exception) as caught:
        call()
    return type(caught.value).__name__, str(caught.value).replace("ember.", "torch.")


def _same_error(call):
    """``call(lib)`` raises the same exception type and message in torch and ember."""
    assert _raised(lambda: call(ember)) == _raised(lambda: call(torch))


def _t(lib, *shape, dtype=None):
    return lib.arange(float(numpy.prod(shape) or 1))[:int(numpy.prod(shape))].reshape(shape).to(
        dtype or lib.float32) / 7 + 0.1


@pytest.mark.parametrize("call", [
    lambda lib: lib.func.grad(lambda x, y: (x * y).sum(), argnums=())(_t(lib, 3), _t(lib, 3)),
    lambda lib: lib.func.grad(lambda x, y: (x * y).sum(), argnums=1.0)(_t(lib, 3), _t(lib, 3)),
    lambda lib: lib.func.grad(lambda x, y: (x * y).sum(), argnums=[0, 1])(_t(lib, 3), _t(lib, 3)),
    lambda lib: lib.func.grad(lambda x, y: (x * y).sum(), argnums=(0, 1.0))(_t(lib, 3), _t(lib, 3)),
    lambda lib: lib.func.grad(lambda x, y: (x * y).sum(), argnums=(0, -2))(_t(lib, 3), _t(lib, 3)),
    lambda lib: lib.func.grad(lambda x, y: (x * y).sum(), argnums=2)(_t(lib, 3), _t(lib, 3)),
    lambda lib: lib.func.jacrev(lambda x: x, argnums=())(_t(lib, 3)),
    lambda lib: lib.func.vjp(lib.sin, _t(lib, 3))[1](lib.ones(4)),
    lambda lib: lib.func.vjp(lib.sin, _t(lib, 3))[1]((lib.ones(3), lib.ones(3))),
    lambda lib: lib.func.vjp(lambda x: 3, _t(lib, 3)),
    lambda lib: lib.func.vjp(lambda x: (x > 0), _t(lib, 3)),
    lambda lib: lib.func.vjp(lib.sin, _t(lib, 3), has_aux=True),
    lambda lib: lib.func.jvp(lib.sin, (_t(lib, 3),), _t(lib, 3)),
    lambda lib: lib.func.jvp(lambda x, y: x * y, (_t(lib, 3), _t(lib, 3)), (_t(lib, 3),)),
    lambda lib: lib.func.jvp(lib.sin, (_t(lib, 3),), (_t(lib, 4),)),
    lambda lib: lib.func.jvp(lambda x: 1.0, (_t(lib, 3),), (_t(lib, 3),)),
    lambda lib: lib.func.jvp(lambda x: x, (1.0,), (1.0,)),
    lambda lib: lib.func.jvp(lambda x: x, (lib.arange(3),), (lib.arange(3),)),
    lambda lib: lib.func.jvp(lambda x: x, (_t(lib, 3),), (lib.arange(3),)),
    lambda lib: lib.func.jvp(lambda x: x, (), ()),
    lambda lib: lib.func.jvp(lib.sin, (_t(lib, 3),), (_t(lib, 3),), has_aux=True),
    lambda lib: lib.func.jvp(lambda x: lib.ones(3), (_t(lib, 3),), (_t(lib, 3),), strict=True),
    lambda lib: lib.func.jacrev(lib.sin, chunk_size=0)(_t(lib, 3)),
    lambda lib: lib.func.jacrev(lambda x: 3.0)(_t(lib, 3)),
    lambda lib: lib.func.jacfwd(lambda x: 3.0)(_t(lib, 3)),
    lambda lib: lib.func.jacrev(lib.sin)(_t(lib, 3, dtype=lib.complex64)),
    lambda lib: lib.func.jacfwd(lambda x: x * lib.rand(3))(_t(lib, 3)),
    lambda lib: lib.func.jacfwd(lib.sin, randomness="sometimes")(_t(lib, 3)),
    lambda lib: lib.func.hessian(lambda x: lib.nn.functional.dropout(x, 0.5).sum())(_t(lib, 3)),
], ids=["argnums_empty", "argnums_float", "argnums_list", "argnums_float_element", "argnums_duplicate",
        "argnum_range", "jacrev_argnums_empty", "vjp_fn_shape", "vjp_fn_structure", "vjp_not_tensor",
        "vjp_integer_output", "vjp_aux", "jvp_tangents_not_tuple", "jvp_structure", "jvp_shape", "jvp_not_tensor_out",
        "jvp_not_tensor_primal", "jvp_integer_primal", "jvp_integer_tangent", "jvp_empty", "jvp_aux", "jvp_strict",
        "jacrev_chunk_size", "jacrev_not_tensor", "jacfwd_not_tensor", "jacrev_complex", "jacfwd_random",
        "jacfwd_randomness", "hessian_dropout"])
def test_transform_errors_as_torch(call):
    """Argument and output checks of the transforms: PyTorch's exception types and messages."""
    _same_error(call)


def test_jvp_tangent_dtype_and_graph_as_torch():
    """A float64 tangent of a float32 primal gives float64 output tangents; a tangent requiring grad makes the output
    tangent differentiable, not the primal output."""
    for dtypes in ((ember.float32, ember.float64), (ember.float64, ember.float32)):
        results = []
        for lib in (ember, torch):
            primal, tangent = (getattr(lib, str(d).split(".")[-1]) for d in dtypes)
            out, jvp_out = lib.func.jvp(lib.sin, (_t(lib, 3, dtype=primal),), (_t(lib, 3, dtype=tangent),))
            results.append((str(out.dtype).split(".")[-1], str(jvp_out.dtype).split(".")[-1]))
        assert results[0] == results[1]
    for lib in (ember, torch):
        out, jvp_out = lib.func.jvp(lib.sin, (_t(lib, 3),), (_t(lib, 3).requires_grad_(),))
        assert (out.requires_grad, jvp_out.requires_grad) == (False, True)


def _tied(lib):
    class Tied(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Linear(3, 3, bias=False)
            self.b = lib.nn.Linear(3, 3, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))
    return Tied()


@pytest.mark.parametrize("call", [
    lambda lib, m, x: lib.func.functional_call(m, {"a.weight": lib.eye(3) * 2}, (x,)),
    lambda lib, m, x: lib.func.functional_call(m, {"b.weight": lib.eye(3) * 2}, (x,)),
    lambda lib, m, x: lib.func.functional_call(m, {"a.weight": lib.eye(3) * 2}, (x,), tie_weights=False),
    lambda lib, m, x: lib.func.functional_call(m, {"a.weight": lib.eye(3) * 2}, (x,), strict=True),
    lambda lib, m, x: lib.func.functional_call(m, {"a.weight": lib.eye(3), "b.weight": lib.eye(3)}, (x,)),
    lambda lib, m, x: (lambda w: lib.func.functional_call(m, {"a.weight": w, "b.weight": w}, (x,)))(lib.eye(3) * 3),
    lambda lib, m, x: lib.func.functional_call(m, {"a.weight": lib.eye(3), "scale": lib.ones(1)}, (x,)),
    lambda lib, m, x: lib.func.functional_call(m, {"a.weight": lib.eye(3), "scale": lib.ones(1)}, (x,), strict=True),
    lambda lib, m, x: lib.func.functional_call(m, {"a.weight": 3.0}, (x,)),
    lambda lib, m, x: lib.func.functional_call(m, ({"a.weight": lib.eye(3)}, [1]), (x,)),
    lambda lib, m, x: lib.func.functional_call(m, ({"a.weight": lib.eye(3)}, {"a.weight": lib.eye(3)}), (x,)),
    lambda lib, m, x: lib.func.functional_call(m, lib.eye(3), (x,)),
], ids=["tied_first", "tied_second", "untied", "tied_strict", "tied_both_differ", "tied_both_same", "unexpected",
        "unexpected_strict", "not_tensor", "not_dict", "repeated", "not_dicts"])
def test_functional_call_tied_weights_and_keys_as_torch(call):
    """Tied weights take one value together (PyTorch's tie_weights), names the module lacks become attributes for
    the call (an error only when strict), and PyTorch's errors; the module is left as it was."""
    results = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        module, x = _tied(lib), lib.arange(6.0).reshape(2, 3)
        before = module.a.weight.detach().clone()
        try:
            out = call(lib, module, x)
            results.append(("ok", out.detach().numpy()))
        except Exception as error:
            results.append((type(error).__name__, str(error).replace("ember.", "torch.")))
        assert module.b.weight is module.a.weight and (module.a.weight == before).all()
        assert not hasattr(module, "scale")
    assert results[0][0] == results[1][0]
    if results[0][0] == "ok":
        numpy.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)
    else:
        assert results[0][1] == results[1][1]


@pytest.mark.parametrize("T", [ember, torch], ids=["ember", "torch"])
def test_functorch_transforms_active_inside_each_transform(T):
    # kornia skips its label-range assert where torch._C._are_functorch_transforms_active()
    seen = []

    def f(x):
        seen.append(T._C._are_functorch_transforms_active())
        return (x * x).sum()
    x = T.ones(2, 3)
    T.func.vmap(f)(x)
    T.func.grad(f)(x)
    T.func.vjp(f, x)
    T.func.jvp(f, (x,), (x,))
    T.func.functionalize(f)(x)
    T.func.jacrev(f)(x)
    T.func.vmap(T.func.grad(f))(x)
    assert seen == [True] * 7 and not T._C._are_functorch_transforms_active()


@pytest.mark.parametrize("call", [
    lambda lib, x, y: lib.func.jacfwd(lambda x: x * lib.rand(3), randomness="different")(x),
    lambda lib, x, y: lib.func.jacfwd(lambda x, y: (y @ x) * lib.randn(2), argnums=(0, 1),
                                      randomness="different")(x, y),
    lambda lib, x, y: lib.func.jacfwd(lambda x: (x.sin() * lib.rand(()), {"a": x.sum()}), has_aux=True,
                                      randomness="different")(x),
    lambda lib, x, y: lib.func.jacfwd(lambda d: d["a"] * lib.rand(3), randomness="different")({"a": x}),
    lambda lib, x, y: lib.func.jacfwd(lambda x: x * lib.rand(3), randomness="same")(x),
], ids=["different", "argnums", "aux", "pytree", "same"])
def test_jacfwd_randomness_as_torch(call):
    """jacfwd's randomness is vmap's over the Jacobian's columns: 'different' draws for each column as PyTorch."""
    results = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        leaves = lib.utils._pytree.tree_leaves(call(lib, lib.linspace(-1, 1, 3), lib.linspace(0, 2, 6).reshape(2, 3)))
        results.append([leaf.detach().numpy() for leaf in leaves])
    assert len(results[0]) == len(results[1])
    for got, want in zip(*results):
        numpy.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("call", [
    lambda lib, f, x: lib.func.grad(f)(x),
    lambda lib, f, x: lib.func.grad_and_value(f)(x),
    lambda lib, f, x: lib.func.vjp(f, x)[1](lib.tensor(1.0, dtype=lib.float64)),
    lambda lib, f, x: lib.func.jvp(f, (x,), (lib.ones_like(x),)),
    lambda lib, f, x: lib.func.jacrev(f)(x),
    lambda lib, f, x: lib.func.jacfwd(f)(x),
    lambda lib, f, x: lib.func.hessian(f)(x[0]),
    lambda lib, f, x: lib.func.vmap(lib.func.grad(f))(x),
    lambda lib, f, x: lib.func.grad(lambda y: (lib.func.grad(f)(y) ** 2).sum())(x),
], ids=["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap_grad", "grad_grad"])
@pytest.mark.parametrize("grad_mode", [True, False])
def test_results_keep_the_graph_of_captured_parameters_as_torch(call, grad_mode):
    """A function capturing tensors that require grad (a module's parameters): the transforms' results stay in their
    graph (PyTorch's functorch levels), so a gradient penalty reaches the parameters; not under no_grad."""
    flags, grads = [], []
    for lib in (ember, torch):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 1)).double()
        x = lib.tensor(numpy.linspace(-1, 1, 6).reshape(2, 3))
        with lib.set_grad_enabled(grad_mode):
            leaves = lib.utils._pytree.tree_leaves(call(lib, lambda y: model(y).sum(), x))
        flags.append([leaf.requires_grad for leaf in leaves])
        if grad_mode:
            total = sum((leaf ** 2).sum() for leaf in leaves if leaf.requires_grad)
            grads.append(lib.autograd.grad(total, list(model.parameters()), allow_unused=True, materialize_grads=True))
    assert flags[0] == flags[1]
    for got, want in zip(*grads) if grads else ():
        numpy.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)


def _functions(lib):
    """User autograd.Functions of each style, defined against ``lib``."""
    class Old(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class New(lib.autograd.Function):
        @staticmethod
        def forward(x):
            return x * 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class Generated(New):
        generate_vmap_rule = True

    class WithVmap(New):
        calls = []

        @staticmethod
        def vmap(info, in_dims, x):
            WithVmap.calls.append((info.batch_size, in_dims, info.randomness))
            return x * 2, in_dims[0]

    class WithJvp(New):
        @staticmethod
        def jvp(ctx, t):
            return t * 2
    return {"Old": Old, "New": New, "Generated": Generated, "WithVmap": WithVmap, "WithJvp": WithJvp}


@pytest.mark.parametrize("call", [
    lambda lib, F, x: lib.func.vmap(F["Old"].apply)(x),
    lambda lib, F, x: lib.func.vmap(F["New"].apply)(x),
    lambda lib, F, x: lib.func.vmap(F["Generated"].apply)(x),
    lambda lib, F, x: (lib.func.vmap(F["WithVmap"].apply, in_dims=1)(x), F["WithVmap"].calls),
    lambda lib, F, x: lib.func.grad(lambda a: F["Old"].apply(a).sum())(x),
    lambda lib, F, x: lib.func.grad(lambda a: F["New"].apply(a).sum())(x),
    lambda lib, F, x: lib.func.vjp(F["Old"].apply, x)[1](x),
    lambda lib, F, x: lib.func.jvp(F["New"].apply, (x,), (x,)),
    lambda lib, F, x: lib.func.jvp(F["WithJvp"].apply, (x,), (x,)),
    lambda lib, F, x: lib.func.jacfwd(F["New"].apply)(x[0]),
    lambda lib, F, x: lib.func.vmap(lib.func.grad(lambda a: F["Generated"].apply(a).sum()))(x),
    lambda lib, F, x: F["Old"].apply(x),
], ids=["vmap_old", "vmap_no_rule", "vmap_generated", "vmap_staticmethod", "grad_old", "grad_new", "vjp_old",
        "jvp_without_jvp", "jvp_with_jvp", "jacfwd_without_jvp", "vmap_grad_generated", "outside"])
def test_custom_functions_in_transforms_as_torch(call):
    """User autograd.Functions inside transforms: PyTorch's requirements (setup_context, a vmap rule, jvp for forward
    mode) and errors, its vmap staticmethod called with the batch dims, and no performance warning."""
    results = []
    for lib in (ember, torch):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", UserWarning)   # no "performance drop" warning
                out = call(lib, _functions(lib), lib.tensor(numpy.linspace(-1, 1, 12).reshape(4, 3)))
            leaves = lib.utils._pytree.tree_leaves(out)
            results.append([leaf.numpy() if isinstance(leaf, lib.Tensor) else leaf for leaf in leaves])
        except Exception as error:
            results.append((type(error).__name__, str(error)))
    if isinstance(results[1], tuple):
        assert results[0] == results[1]
    else:
        assert len(results[0]) == len(results[1])
        for got, want in zip(*results):
            if isinstance(want, numpy.ndarray):
                numpy.testing.assert_allclose(got, want)
            else:
                assert got == want


@pytest.mark.parametrize("call", [
    lambda lib, w, b, x: lib.nn.functional.linear(x, w, b),
    lambda lib, w, b, x: (w * 2).sum() + b,
    lambda lib, w, b, x: w.sum() + b,
    lambda lib, w, b, x: (w.sin() @ x.T).sum(1) + b,
], ids=["linear", "scaled", "sum", "nonlinear"])
def test_jvp_tangents_of_primals_requiring_grad_as_torch(call):
    """jvp at primals requiring grad: the tangent requires grad where PyTorch's forward formulas read a primal
    (products, nonlinear ops), and its gradients agree."""
    results = []
    for lib in (ember, torch):
        w = lib.tensor(numpy.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
        b = lib.tensor([0.5, -0.5], dtype=lib.float64, requires_grad=True)
        x = lib.tensor(numpy.linspace(0, 1, 9).reshape(3, 3))
        out, tangent = lib.func.jvp(lambda w, b: call(lib, w, b, x), (w, b), (lib.ones_like(w), lib.ones_like(b)))
        grads = None
        if tangent.requires_grad:
            grads = [g.numpy(force=True) if lib is torch else g.numpy() for g in lib.autograd.grad(
                (tangent ** 2).sum(), (w, b), allow_unused=True, materialize_grads=True)]
        results.append((out.requires_grad, tangent.requires_grad, tangent.detach().numpy(), grads))
    assert results[0][:2] == results[1][:2]
    numpy.testing.assert_allclose(results[0][2], results[1][2])
    for got, want in zip(results[0][3] or (), results[1][3] or ()):
        numpy.testing.assert_allclose(got, want, atol=1e-12)


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.func.jvp(lambda a: lib.cdist(a, a), (x,), (x,)),
    lambda lib, x: lib.func.jvp(lambda a: lib.nn.functional.scaled_dot_product_attention(a, a, a), (x[None],),
                                (x[None],)),
    lambda lib, x: lib.func.jvp(lambda a: lib.nn.functional.scaled_dot_product_attention(a, a, a), (x[0],),
                                (x[0],)),
    lambda lib, x: lib.func.jacfwd(lambda a: lib.unique(a))(x),
    lambda lib, x: lib.func.jvp(lambda a: lib.zeros(2, 3, 4, dtype=a.dtype).index_reduce(0, lib.tensor([0, 1]), a,
                                                                                          "prod"), (x,), (x,)),
    lambda lib, x: lib.func.vjp(lambda a: lib.cdist(a, a), x)[1](lib.ones(2, 3, 3, dtype=x.dtype)),
], ids=["cdist", "attention_4d", "attention_3d", "jacfwd_unique", "index_reduce", "vjp_cdist"])
def test_forward_mode_transforms_refuse_ops_without_forward_derivative_as_torch(call):
    """jvp and jacfwd raise PyTorch's NotImplementedError for ops it has no forward derivative for (4-d CPU attention
    among them); reverse-mode transforms do not."""
    results = []
    for lib in (ember, torch):
        try:
            out = call(lib, lib.tensor(numpy.linspace(-1, 1, 24).reshape(2, 3, 4)))
            results.append([leaf.detach().numpy() for leaf in lib.utils._pytree.tree_leaves(out)])
        except NotImplementedError as error:
            results.append(str(error))
    if isinstance(results[1], str):
        assert results[0] == results[1]
    else:
        for got, want in zip(*results):
            numpy.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)
