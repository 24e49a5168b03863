"""Library, the torch.library registration functions and torch.ops.<ns> access against torch: kernels per dispatch
key, how arguments reach a kernel, binding errors, the autograd fallback's warning, _destroy, and misuse errors."""
import gc
import warnings

import numpy
import pytest
import torch
import torch.library  # noqa: F401

import ember
import ember.library

from ._helpers import namespace, raised

LIBS = (torch, ember)


def first_line(error):
    return error[0], error[1].splitlines()[0]


def test_kernel_arguments_as_torchs_dispatcher_passes_them():
    ns = namespace()
    calls = {}
    for lib in LIBS:
        seen = calls[lib.__name__] = []
        library = lib.library.Library(ns, "DEF")
        library.define("k(Tensor x, int a=1, float b=2.0, *, int c=3, int d=4) -> Tensor")

        def kernel(*args, **kwargs):
            seen.append(([a if not isinstance(a, lib.Tensor) else "T" for a in args], kwargs))
            return args[0].clone()

        library.impl("k", kernel, "CPU")
        op, x = getattr(lib.ops, ns).k, lib.ones(1)
        op(x), op(x, 5), op(x, a=5), op(x, b=1.0), op(x, d=7), op(x, 2, 3.0, c=3, d=4), op(x, 2, 3), op.default(x)
        library._destroy()
    assert calls["ember"] == calls["torch"]


def test_binding_errors_equal_torchs():
    ns = namespace()
    errors = []
    for lib in LIBS:
        library = lib.library.Library(ns, "DEF")
        library.define("foo(Tensor x, float alpha=1.0) -> Tensor")
        library.define("bar(Tensor x, int n) -> Tensor")
        library.define("bar.out(Tensor x, int n, *, Tensor(a!) out) -> Tensor(a!)")
        library.impl("foo", lambda x, alpha=1.0: x * alpha, "CPU")
        foo, bar = getattr(lib.ops, ns).foo, getattr(lib.ops, ns).bar
        x = lib.ones(2)
        errors.append([first_line(raised(lambda: foo(x, 1.0, 2.0))), first_line(raised(lambda: foo(x, beta=2.0))),
                       first_line(raised(lambda: foo("a"))), first_line(raised(lambda: foo())),
                       first_line(raised(lambda: foo(x, "s"))), raised(lambda: bar(x, 1.5)),
                       raised(lambda: bar.default(x)), raised(lambda: foo.out)])
        library._destroy()
    assert errors[0][:5] == errors[1][:5]
    assert errors[0][6:] == errors[1][6:]
    assert errors[0][5][1].splitlines()[:2] == errors[1][5][1].splitlines()[:2]   # torch adds cast details


def test_dispatch_keys():
    ns = namespace()
    data = numpy.random.randn(3)
    results = []
    for lib in LIBS:
        library = lib.library.Library(ns, "DEF")
        library.define("composite(Tensor x) -> Tensor")
        library.impl("composite", lambda x: x.sin() * 2, "CompositeImplicitAutograd")
        library.define("autograd_key(Tensor x) -> Tensor")
        library.impl("autograd_key", lambda x: x * 3, "Autograd")
        library.define("explicit(Tensor x) -> Tensor")
        library.impl("explicit", lambda x: x + 1, "CompositeExplicitAutograd")
        library.define("default_key(Tensor x) -> Tensor")
        library.impl("default_key", lambda x: x - 1)
        ops = getattr(lib.ops, ns)
        x = lib.tensor(data, requires_grad=True)
        y = ops.composite(x)
        y.sum().backward()
        results.append((type(y.grad_fn).__name__, x.grad.tolist(), type(ops.autograd_key(x).grad_fn).__name__,
                        ops.explicit(x.detach()).tolist(), ops.default_key(x).grad_fn is not None,
                        raised(lambda: library.impl("composite", lambda x: x, "Foo"))))
        library._destroy()
    assert results[0] == results[1]


def test_missing_kernel_raises_not_implemented():
    ns = namespace()
    errors = []
    for lib in LIBS:
        library = lib.library.Library(ns, "DEF")
        library.define("nokernel(Tensor x) -> Tensor")
        name, message = raised(lambda: getattr(lib.ops, ns).nokernel(lib.ones(1)))
        errors.append((name, message.split(" This could be")[0]))
        library._destroy()
    assert errors[0] == errors[1]


def test_backward_through_op_without_autograd_kernel_warns():
    ns = namespace()
    results = []
    for lib in LIBS:
        library = lib.library.Library(ns, "DEF")
        library.define("composed(Tensor x) -> Tensor")
        library.impl("composed", lambda x: x * 2, "CPU")
        library.define("opaque(Tensor x) -> Tensor")
        library.impl("opaque", lambda x: lib.from_numpy(numpy.sin(x.detach().numpy())), "CPU")
        ops, outcome = getattr(lib.ops, ns), []
        for op in (ops.composed, ops.opaque):
            x = lib.ones(2, requires_grad=True)
            y = op(x)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                y.sum().backward()
            outcome.append((y.requires_grad, x.grad is None or x.grad.tolist(),
                            [str(w.message).split(" (Triggered internally")[0] for w in caught]))
        results.append(outcome)
        library._destroy()
    assert results[0] == results[1]


def test_library_kinds_and_definitions():
    ns = namespace()
    errors = []
    for lib in LIBS:
        library = lib.library.Library(ns, "DEF")
        library.define("a(Tensor x) -> Tensor")
        fragment = lib.library.Library(ns, "FRAGMENT")
        impl = lib.library.Library(ns, "IMPL")
        errors.append([repr(library), repr(impl), first_line(raised(lambda: lib.library.Library(ns, "DEF"))),
                       raised(lambda: lib.library.Library(ns, "BAD")),
                       raised(lambda: lib.library.Library("prim", "FRAGMENT")),
                       first_line(raised(lambda: fragment.define("a(Tensor x) -> Tensor"))),
                       raised(lambda: library.define("b(Tensor x) -> Tensor", "NOPE")),
                       raised(lambda: library.impl("a", 3, "CPU"))])
        impl_error = first_line(raised(lambda: impl.define("b(Tensor x) -> Tensor")))
        errors[-1].append(impl_error[1].split("  (Error")[0])
        library._destroy()
        errors[-1] += [raised(lambda: getattr(getattr(lib.ops, ns), "a")) if hasattr(lib.ops, ns) else "gone",
                       raised(lambda: library.define("c(Tensor x) -> Tensor"), AssertionError)]
        fragment._destroy()
    torch_errors, ember_errors = errors
    for i, (t, e) in enumerate(zip(torch_errors, ember_errors)):
        if i == 2:   # the messages name where each library was made
            assert t[1].split(" Previous")[0] == e[1].split(" Previous")[0]
        elif i == 5:
            assert t[1].split(" Duplicate")[0] == e[1].split(" Duplicate")[0]
        elif i == 9:   # torch keeps the emptied namespace reachable; ember drops it: AttributeError either way
            assert t[0] == "AttributeError" and (e == "gone" or e[0] == "AttributeError")
        else:
            assert t == e


def test_garbage_collected_library_removes_its_operators():
    ns = namespace()
    for lib in LIBS:
        def make():
            library = lib.library.Library(ns, "FRAGMENT")
            library.define("z(Tensor x) -> Tensor")
            assert hasattr(getattr(lib.ops, ns), "z")
        make()
        gc.collect()
        assert not hasattr(lib.ops, ns) or not hasattr(getattr(lib.ops, ns), "z")


def test_registration_functions():
    ns = namespace()
    results = []
    for lib in LIBS:
        library = lib.library.Library(ns, "FRAGMENT")
        lib.library.define(f"{ns}::twice", "(Tensor x) -> Tensor", lib=library)

        @lib.library.impl(f"{ns}::twice", "cpu", lib=library)
        def twice(x):
            return x * 2

        lib.library.register_fake(f"{ns}::twice", lambda x: lib.empty_like(x), lib=library)
        lib.library.register_autograd(f"{ns}::twice", lambda ctx, g: g * 2, lib=library)
        op = getattr(lib.ops, ns).twice
        x = lib.ones(2, requires_grad=True)
        y = op(x)
        y.sum().backward()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # overriding a kernel warns in both
            lib.library.register_kernel(f"{ns}::twice", "cpu", lambda x: x * 5, lib=library)
        legacy = lib.library.Library(ns, "FRAGMENT")

        @lib.library.define(legacy, "thrice(Tensor x) -> Tensor")
        def thrice(x):
            return x * 3

        results.append([type(y.grad_fn).__name__, x.grad.tolist(), op(lib.ones(1)).tolist(),
                        getattr(lib.ops, ns).thrice(lib.ones(1)).tolist(),
                        raised(lambda: lib.library.define("noseparator", "(Tensor x) -> Tensor")),
                        raised(lambda: lib.library.define(f"{ns}::bad", "Tensor x", lib=library)),
                        raised(lambda: lib.library.define(3, "(Tensor x) -> Tensor")),
                        raised(lambda: lib.library.register_fake(f"{ns}::nope", lambda x: x, lib=library)),
                        raised(lambda: lib.library.register_autograd(f"{ns}::nope", lambda c, g: g, lib=library)),
                        raised(lambda: lib.library.register_fake(3, lambda x: x))])
        legacy._destroy()
        library._destroy()
    assert results[0] == results[1]


def test_torch_ops_access_and_load_library(tmp_path):
    ns = namespace()
    results = []
    for lib in LIBS:
        library = lib.library.Library(ns, "FRAGMENT")
        library.define("op(Tensor x) -> Tensor")
        packet = getattr(lib.ops, ns).op
        results.append([str(packet), str(packet.default), packet.default.name(), packet.default.__name__,
                        packet.__name__, packet.default.namespace, packet.default._opname,
                        packet.default._overloadname, raised(lambda: getattr(lib.ops, ns).nope),
                        raised(lambda: packet.foo),
                        raised(lambda: lib.ops.load_library(str(tmp_path / "missing.so")))])
        library._destroy()
    assert results[0] == results[1]


def test_ops_namespace_never_shadows_ember_modules():
    assert ember.ops.linalg.__name__ == "ember.ops.linalg"
    with pytest.raises(ValueError, match="module of ember.ops"):
        ember.library.Library("linalg", "FRAGMENT")
    with pytest.raises(AttributeError):
        ember.ops.no_such_namespace_anywhere


def test_load_library_of_an_existing_file_explains(tmp_path):
    path = tmp_path / "ops.so"
    path.write_bytes(b"")
    with pytest.raises(RuntimeError, match="cannot load"):
        ember.ops.load_library(str(path))


def test_fallthrough_at_the_autograd_key():
    ns = namespace()
    results = []
    for lib in LIBS:
        library = lib.library.Library(ns, "DEF")
        library.define("a(Tensor x) -> Tensor")
        library.define("b(Tensor x) -> Tensor")
        library.impl("a", lambda x: x * 2, "CPU")
        library.impl("b", lambda x: lib.from_numpy(numpy.sin(x.detach().numpy())), "CPU")
        for name in "ab":
            library.impl(name, lib.library.fallthrough_kernel, "Autograd")
        x = lib.ones(2, requires_grad=True)
        ops = getattr(lib.ops, ns)
        a, b = ops.a(x), ops.b(x)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            a.sum().backward()
        results.append((type(a.grad_fn).__name__, b.requires_grad, x.grad.tolist(),
                        raised(lambda: lib.library.fallthrough_kernel())))
        library._destroy()
    assert results[0] == results[1]


@pytest.mark.skipif(not ember.cuda.is_available(), reason="needs a CUDA GPU and CuPy")
def test_kernels_per_device_type_on_a_gpu():
    ns = namespace()

    @ember.library.custom_op(f"{ns}::where", mutates_args=(), device_types="cpu")
    def where(x: ember.Tensor) -> ember.Tensor:
        return x * 0

    @where.register_kernel("cuda")
    def _(x):
        return x * 0 + 1

    assert where(ember.ones(2)).tolist() == [0.0, 0.0]
    out = where(ember.ones(2, device="cuda"))
    assert out.device.type == "cuda" and out.cpu().tolist() == [1.0, 1.0]


def test_destroyed_then_collected_library_keeps_a_newer_definition():
    ns = namespace()
    for lib in LIBS:
        first = lib.library.Library(ns, "DEF")
        first._destroy()
        second = lib.library.Library(ns, "DEF")
        del first
        gc.collect()
        with pytest.raises(RuntimeError, match="Only a single TORCH_LIBRARY"):
            lib.library.Library(ns, "DEF")
        second._destroy()
