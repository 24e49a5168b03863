"""custom_op against torch.library.custom_op: the "Python custom operators" tutorial's ops (numpy_sin with a fake
kernel and an autograd formula, a mutating op, a multi-output op, list inputs) give equal values and gradients;
what the op body sees, version bumps, and the errors of misuse equal torch's."""
import warnings

import numpy
import pytest
import torch
import torch.library  # noqa: F401

import ember
import ember.library

from ._helpers import namespace, raised

LIBS = (torch, ember)


def make_numpy_sin(lib, ns):
    """The tutorial's numpy_sin: a NumPy kernel, a fake kernel, and a backward saving the input."""
    Tensor = lib.Tensor

    @lib.library.custom_op(f"{ns}::numpy_sin", mutates_args=())
    def numpy_sin(x: Tensor) -> Tensor:
        return lib.from_numpy(numpy.sin(x.detach().numpy()))

    @numpy_sin.register_fake
    def _(x):
        return lib.empty_like(x)

    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x.cos()

    numpy_sin.register_autograd(backward, setup_context=setup_context)
    return numpy_sin


def test_numpy_sin_values_gradients_and_torch_ops():
    ns = namespace()
    data = numpy.random.randn(3, 4)
    grads = []
    for lib in LIBS:
        op = make_numpy_sin(lib, ns)
        x = lib.tensor(data, requires_grad=True)
        y = op(x)
        assert type(y.grad_fn).__name__ == f"GeneratedBackwardFor_{ns}_numpy_sin_defaultBackward"
        (y * y).sum().backward()
        grads.append((y.detach().numpy(), x.grad.numpy()))
        packet = getattr(lib.ops, ns).numpy_sin
        assert str(packet) == f"{ns}.numpy_sin" and str(packet.default) == f"{ns}.numpy_sin.default"
        assert repr(packet.default) == f"<OpOverload(op='{ns}.numpy_sin', overload='default')>"
        assert packet.overloads() == ["default"]
        numpy.testing.assert_allclose(packet.default(x).detach().numpy(), numpy.sin(data))
        assert str(packet.default._schema) == f"{ns}::numpy_sin(Tensor x) -> Tensor"
        assert repr(op) == f"<CustomOpDef({ns}::numpy_sin)>"
    numpy.testing.assert_allclose(grads[0][0], grads[1][0])
    numpy.testing.assert_allclose(grads[0][1], grads[1][1])
    numpy.testing.assert_allclose(grads[1][1], 2 * numpy.sin(data) * numpy.cos(data))


def test_body_runs_below_autograd():
    ns = namespace()
    seen = {}
    for lib in LIBS:
        log = seen[lib.__name__] = []

        @lib.library.custom_op(f"{ns}::probe", mutates_args=())
        def probe(x: lib.Tensor) -> lib.Tensor:
            log.append((lib.is_grad_enabled(), x.requires_grad, x.grad_fn is None))
            return x * 2

        probe(lib.ones(2))
        probe(lib.ones(2, requires_grad=True))
        with lib.no_grad():
            probe(lib.ones(2, requires_grad=True))
        out = probe(lib.ones(2, requires_grad=True) * 1)
        log.append(type(out.grad_fn).__name__)
    assert seen["ember"] == seen["torch"]


def test_backward_without_register_autograd_raises_torchs_error():
    ns = namespace()
    errors = []
    for lib in LIBS:
        @lib.library.custom_op(f"{ns}::noautograd", mutates_args=())
        def noautograd(x: lib.Tensor) -> lib.Tensor:
            return x.detach() * 2

        y = noautograd(lib.ones(2, requires_grad=True))
        assert y.requires_grad
        errors.append(raised(lambda: y.sum().backward()))
    assert errors[0] == errors[1]
    assert "no autograd formula was registered" in errors[1][1]


def test_mutating_op_bumps_version_and_refuses_autograd():
    ns = namespace()
    results = []
    for lib in LIBS:
        @lib.library.custom_op(f"{ns}::sin_", mutates_args={"x"})
        def sin_(x: lib.Tensor) -> None:
            x.copy_(x.sin())

        x = lib.tensor([0.5, 1.0, 2.0])
        out = sin_(x)
        leaf = lib.ones(2, requires_grad=True)
        sin_(leaf)   # below autograd: the leaf is written with grad recording off, as torch does
        numpy.testing.assert_allclose(x.numpy(), numpy.sin([0.5, 1.0, 2.0]), rtol=1e-6)
        results.append((out, x._version, leaf._version,
                        str(getattr(lib.ops, ns).sin_.default._schema),
                        raised(lambda: sin_.register_autograd(lambda ctx, g: g))))
    assert results[0] == results[1]
    assert results[1][3] == f"{ns}::sin_(Tensor(a0!) x) -> ()"


def test_multi_output_op():
    ns = namespace()
    data = numpy.random.randn(5)
    results = []
    for lib in LIBS:
        @lib.library.custom_op(f"{ns}::split", mutates_args=())
        def split(x: lib.Tensor, k: int) -> tuple[lib.Tensor, lib.Tensor]:
            return x[:k].clone(), x[k:].clone()

        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]

        def backward(ctx, ga, gb):
            assert ctx.needs_input_grad == (True, False)
            return lib.cat([ga, gb]), None

        split.register_autograd(backward, setup_context=setup_context)
        x = lib.tensor(data, requires_grad=True)
        a, b = split(x, 2)
        assert a.grad_fn is b.grad_fn
        (a.sum() * 2 + (b * b).sum()).backward()
        results.append((a.detach().numpy(), b.detach().numpy(), x.grad.numpy(),
                        str(getattr(lib.ops, ns).split.default._schema)))
    for t, e in zip(results[0][:3], results[1][:3]):
        numpy.testing.assert_array_equal(t, e)
    assert results[0][3] == results[1][3]


def test_list_inputs_and_keyword_defaults():
    ns = namespace()
    data = numpy.random.randn(2, 3)
    results = []
    for lib in LIBS:
        @lib.library.custom_op(f"{ns}::weighted_sum", mutates_args=())
        def weighted_sum(tensors: list[lib.Tensor], weights: list[float], scale: float = 1.0) -> lib.Tensor:
            return sum(t * w for t, w in zip(tensors, weights)) * scale

        def backward(ctx, grad):
            return [grad * w * ctx.scale for w in ctx.weights], None, None

        def setup_context(ctx, inputs, output):
            ctx.weights, ctx.scale = inputs[1], inputs[2]

        weighted_sum.register_autograd(backward, setup_context=setup_context)
        a, b = (lib.tensor(row, requires_grad=True) for row in data)
        out = weighted_sum([a, b], [0.3, 0.7], scale=2.0)
        out.sum().backward()
        results.append((out.detach().numpy(), a.grad.numpy(), b.grad.numpy(),
                        str(getattr(lib.ops, ns).weighted_sum.default._schema)))
    for t, e in zip(results[0][:3], results[1][:3]):
        numpy.testing.assert_allclose(t, e)
    assert results[0][3] == results[1][3]


def test_wrong_number_of_gradients():
    ns = namespace()
    errors = []
    for lib in LIBS:
        @lib.library.custom_op(f"{ns}::mul", mutates_args=())
        def mul(x: lib.Tensor, y: lib.Tensor) -> lib.Tensor:
            return x * y

        x = lib.ones(2, requires_grad=True)
        mul.register_autograd(lambda ctx, g: g)
        few = raised(lambda: mul(x, x).sum().backward())
        mul.register_autograd(lambda ctx, g: (g, g, g))
        many = raised(lambda: mul(x, x).sum().backward())
        errors.append((few, many))
    assert errors[0] == errors[1]


def test_outputs_may_not_alias_inputs():
    ns = namespace()
    errors = []
    for lib in LIBS:
        @lib.library.custom_op(f"{ns}::ident", mutates_args=())
        def ident(x: lib.Tensor) -> lib.Tensor:
            return x

        @lib.library.custom_op(f"{ns}::view", mutates_args=())
        def view(x: lib.Tensor) -> lib.Tensor:
            return x.view(-1)

        errors.append((raised(lambda: ident(lib.zeros(2))), raised(lambda: view(lib.zeros(2, 2)))))
    assert errors[0] == errors[1]


def test_redefinition_and_kernels_per_device():
    ns = namespace()
    results = []
    for lib in LIBS:
        def first_definition(x: lib.Tensor) -> lib.Tensor:
            return x + 1

        lib.library.custom_op(f"{ns}::f", first_definition, mutates_args=())

        @lib.library.custom_op(f"{ns}::f", mutates_args=())   # custom_op may define a name again
        def f(x: lib.Tensor) -> lib.Tensor:
            return lib.zeros(1)

        first = f(lib.ones(1)).tolist()

        @f.register_kernel("cpu")
        def _(x):
            return lib.ones(1)

        second = f(lib.ones(1)).tolist()
        with f.set_kernel_enabled("cpu", enabled=False):
            third = f(lib.ones(1)).tolist()
        results.append((first, second, third, f(lib.ones(1)).tolist()))
    assert results[0] == results[1] == ([0.0], [1.0], [0.0], [1.0])


def test_misuse_errors():
    ns = namespace()
    errors = []
    for lib in LIBS:
        T = lib.Tensor
        case = []

        def nohint(x):
            return x

        def noreturn(x: T):
            return x

        def plain(x: T) -> T:
            return x.clone()

        def kwonly(x: T, *, y: T) -> T:
            return x

        def scalar_mutated(x: T, n: int) -> T:
            return x

        def untyped_default(x: T, y: int = [1]) -> T:
            return x

        case.append(raised(lambda: lib.library.custom_op(f"{ns}::a", mutates_args=())(nohint)))
        case.append(raised(lambda: lib.library.custom_op(f"{ns}::b", mutates_args=())(noreturn)))
        case.append(raised(lambda: lib.library.custom_op(f"{ns}::c", mutates_args=())(kwonly)))
        case.append(raised(lambda: lib.library.custom_op(f"{ns}::d", mutates_args={"n"})(scalar_mutated)))
        case.append(raised(lambda: lib.library.custom_op(f"{ns}::e", mutates_args={"z"})(noreturn)))
        case.append(raised(lambda: lib.library.custom_op(f"{ns}::g", mutates_args=())(untyped_default)))
        case.append(raised(lambda: lib.library.custom_op(f"{ns}::h")(noreturn)))
        case.append(raised(lambda: lib.library.custom_op(f"{ns}::i", mutates_args="all")(scalar_mutated)))
        case.append(raised(lambda: lib.library.custom_op(f"{ns}::j", mutates_args=(),
                                                         schema="(Tensor(a!) x) -> ()")(noreturn)))
        case.append(raised(lambda: lib.library.custom_op("no_namespace", mutates_args=())(kwonly)))
        good = lib.library.custom_op(f"{ns}::k", mutates_args=())(plain)
        case.append(raised(lambda: good(3))[1].splitlines()[0])   # torch adds cast details
        case.append(raised(lambda: good(lib.ones(1), lib.ones(1))))
        errors.append(case)
    for t, e in zip(*errors):
        assert t == e


def test_unsupported_type_annotation():
    ns = namespace()
    messages = []
    for lib in LIBS:
        def f(x: lib.Tensor, d: dict) -> lib.Tensor:
            return x
        name, message = raised(lambda: lib.library.custom_op(f"{ns}::f", mutates_args=())(f))
        messages.append((name, message.split(" The valid types")[0]))
    assert messages[0] == messages[1]


def test_factory_without_tensor_inputs_needs_a_device_argument():
    ns = namespace()
    results = []
    for lib in LIBS:
        def no_device(n: int) -> lib.Tensor:
            return lib.ones(n)

        def with_device(n: int, device: lib.device) -> lib.Tensor:
            seen.append(type(device).__name__)
            return lib.ones(n)

        seen = []
        error = raised(lambda: lib.library.custom_op(f"{ns}::a", mutates_args=(), device_types="cpu")(no_device))
        op = lib.library.custom_op(f"{ns}::b", mutates_args=(), device_types="cpu")(with_device)
        results.append((error, op(2, "cpu").tolist(), op(1, lib.device("cpu")).tolist(), seen,
                        raised(lambda: op(2, "cuda"))))
    assert results[0] == results[1]


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "ember"])
def test_grad_mode_off_or_no_grad_inputs_records_nothing(lib):
    op = make_numpy_sin(lib, namespace())
    assert not op(lib.ones(2)).requires_grad
    with lib.no_grad():
        assert not op(lib.ones(2, requires_grad=True)).requires_grad


def test_keyword_only_arguments_reach_setup_context():
    ns = namespace()
    results = []
    for lib in LIBS:
        @lib.library.custom_op(f"{ns}::scaled", mutates_args=())
        def scaled(x: lib.Tensor, *, scale: float = 2.0) -> lib.Tensor:
            return x * scale

        def setup_context(ctx, inputs, keyword_only_inputs, output):
            ctx.scale = keyword_only_inputs["scale"]
            ctx.inputs = len(inputs)

        def backward(ctx, grad):
            return grad * ctx.scale

        scaled.register_autograd(backward, setup_context=setup_context)
        x = lib.ones(2, requires_grad=True)
        scaled(x, scale=3.0).sum().backward()
        y = lib.ones(2, requires_grad=True)
        out = scaled(y)
        out.sum().backward()
        results.append((x.grad.tolist(), y.grad.tolist(), out.grad_fn.inputs,   # the node is the ctx in both
                        str(getattr(lib.ops, ns).scaled.default._schema)))
    assert results[0] == results[1]


def test_tracing_records_the_op_whole():
    """A traced custom op is one node (its NumPy kernel is not frozen into the trace) and runs again when the
    traced program is saved and loaded."""
    import io
    ns = namespace()
    op = make_numpy_sin(ember, ns)
    traced = ember.jit.trace(lambda t: op(t) + getattr(ember.ops, ns).numpy_sin(t), (ember.ones(3),))
    assert [n.kind for n in traced.graph.nodes].count(f"ember::{ns}::numpy_sin") == 2
    buffer = io.BytesIO()
    ember.jit.save(traced, buffer)
    buffer.seek(0)
    loaded = ember.jit.load(buffer)
    x = ember.tensor([0.0, 0.5, 1.0])
    numpy.testing.assert_allclose(loaded(x).numpy(), 2 * numpy.sin(x.numpy()), rtol=1e-6)


def test_compile_differentiates_through_the_op():
    ns = namespace()
    results = []
    for lib in LIBS:
        op = make_numpy_sin(lib, ns)
        x = lib.tensor([0.1, 0.2, 0.3], requires_grad=True)
        options = {"backend": "eager"} if lib is torch else {}
        lib.compile(lambda t: op(t * 2).sum(), **options)(x).backward()
        results.append(x.grad.numpy())
    numpy.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_vmap_runs_the_op_per_example():
    ns = namespace()
    results = []
    for lib in LIBS:
        op = make_numpy_sin(lib, ns)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # ember warns that no batching rule exists (torch says so in C++)
            results.append(lib.func.vmap(op)(lib.tensor([[0.5, 1.0], [1.5, 2.0]])).numpy())
    numpy.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_list_outputs_and_gradient_structure():
    """A list input's gradient must be a list: torch checks the structure of what backward returns."""
    ns = namespace()
    results = []
    for lib in LIBS:
        @lib.library.custom_op(f"{ns}::chunks", mutates_args=())
        def chunks(x: lib.Tensor, others: list[lib.Tensor], n: int) -> list[lib.Tensor]:
            return [c.clone() for c in x.chunk(n)]

        x = lib.arange(6.0, requires_grad=True)
        others = [lib.ones(1, requires_grad=True), lib.ones(1, requires_grad=True)]
        chunks.register_autograd(lambda ctx, grads: (lib.cat(grads), None, None))
        error = raised(lambda: sum(o.sum() for o in chunks(x, others, 3)).backward())
        chunks.register_autograd(lambda ctx, grads: (lib.cat(grads), [None, grads[0][:1]], None))
        out = chunks(x, others, 3)
        (out[0].sum() + 2 * out[2].sum()).backward()
        results.append((type(out).__name__, len(out), x.grad.tolist(),
                        [None if o.grad is None else o.grad.tolist() for o in others], error))
    assert results[0] == results[1]


def test_list_arguments_reach_the_kernel_and_autograd_as_lists():
    """A tuple for an ``int[]`` / ``float[]`` argument reaches the kernel and setup_context as a list (float
    elements as floats), as PyTorch's dispatcher hands it, so a registered backward returning one gradient per
    argument works (the custom-ops tutorial's crop(img, (10, 10, 50, 50)) failed: the tuple was spread out)."""
    from typing import Sequence
    results = []
    for lib in (torch, ember):
        seen = []

        @lib.library.custom_op(f"{namespace()}::crop", mutates_args=())
        def crop(x: lib.Tensor, box: Sequence[int], scales: list[float]) -> lib.Tensor:
            seen.append((type(box).__name__, box, scales))
            return x[box[0]:box[1]] * scales[0]

        def setup_context(ctx, inputs, output):
            seen.append(tuple(type(i).__name__ for i in inputs))
            ctx.box, ctx.shape, ctx.scale = inputs[1], inputs[0].shape, inputs[2][0]

        def backward(ctx, grad):
            full = grad.new_zeros(ctx.shape)
            full[ctx.box[0]:ctx.box[1]] = grad * ctx.scale
            return full, None, None

        crop.register_autograd(backward, setup_context=setup_context)
        x = lib.arange(5.0, requires_grad=True)
        crop(x, (1, 3), (2,)).sum().backward()
        results.append((seen, x.grad.tolist()))
    assert results[1] == results[0]
