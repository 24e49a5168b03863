"""Selective activation checkpointing (create_selective_checkpoint_contexts) against torch: the ATen ops a policy
is asked about for common modules, results and gradients, what it saves, and its errors."""
import functools

import numpy
import pytest
import torch
import torch.utils.checkpoint

import ember
import ember.utils.checkpoint

RNG = numpy.random.default_rng(0)


def _arrays(*shapes):
    return [RNG.standard_normal(shape).astype(numpy.float32) for shape in shapes]


def _logged(lib, fn, *inputs):
    """The ops the policy was asked about (as strings, with is_recompute), the result and the inputs' gradients."""
    seen = []
    cp = lib.utils.checkpoint

    def policy(ctx, op, *args, **kwargs):
        seen.append((str(op), ctx.is_recompute))
        return cp.CheckpointPolicy.PREFER_RECOMPUTE
    tensors = [lib.tensor(a, requires_grad=True) for a in inputs]
    out = cp.checkpoint(fn(lib), *tensors, use_reentrant=False,
                        context_fn=functools.partial(cp.create_selective_checkpoint_contexts, policy))
    asked = len(seen)
    out.sum().backward()
    assert len(seen) == asked   # the policy is asked in the forward pass only
    return seen, out.detach().numpy(), [t.grad.numpy() for t in tensors]


def _module(build):
    def make(lib):
        lib.manual_seed(0)
        return build(lib)
    return make


CASES = {
    "linear": (_module(lambda lib: lib.nn.Linear(8, 6)), (4, 8)),
    "linear_3d": (_module(lambda lib: lib.nn.Linear(8, 6)), (2, 4, 8)),
    "linear_no_bias": (_module(lambda lib: lib.nn.Linear(8, 6, bias=False)), (4, 8)),
    "linear_no_bias_3d": (_module(lambda lib: lib.nn.Linear(8, 6, bias=False)), (2, 4, 8)),
    "mlp": (_module(lambda lib: lib.nn.Sequential(lib.nn.Linear(8, 8), lib.nn.ReLU(), lib.nn.Linear(8, 8),
                                                 lib.nn.GELU(), lib.nn.Linear(8, 2), lib.nn.Sigmoid())), (4, 8)),
    "conv_bn": (_module(lambda lib: lib.nn.Sequential(lib.nn.Conv2d(3, 4, 3, padding=1), lib.nn.BatchNorm2d(4),
                                                     lib.nn.SiLU(), lib.nn.MaxPool2d(2))), (2, 3, 8, 8)),
    "where_split": (lambda lib: lambda x: lib.cat([p * 2 for p in lib.where(x > 0, x, x * 0.1).split(2, dim=1)], 1),
                    (4, 5)),
    "max_sort": (lambda lib: lambda x: x.max(dim=1).values.sum() * x.sort(dim=1)[0], (4, 5)),
    "global_pool": (lambda lib: lambda x: lib.nn.functional.adaptive_avg_pool2d(x, 1).flatten(1), (2, 3, 4, 4)),
    "layer_norm_softmax": (lambda lib: lambda x: lib.nn.functional.softmax(
        lib.nn.functional.layer_norm(x, (8,)), -1), (2, 4, 8)),
    "matmuls": (lambda lib: lambda x: lib.tanh(x @ x.transpose(1, 2)) @ x + x.mean() * 2, (2, 4, 8)),
    "sdpa": (lambda lib: lambda q: lib.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True),
             (2, 2, 4, 8)),
    "cross_entropy": (lambda lib: functools.partial(lambda target, x: lib.nn.functional.cross_entropy(x, target),
                                                    lib.tensor([1, 2, 3, 0])), (4, 8)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_policy_sees_torchs_aten_ops_and_gradients_match(case):
    fn, shape = CASES[case]
    inputs = _arrays(shape)
    ours = _logged(ember, fn, *inputs)
    theirs = _logged(torch, fn, *inputs)
    assert ours[0] == theirs[0]
    numpy.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-5)
    for a, b in zip(ours[2], theirs[2]):
        numpy.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def _saving(lib, policy_of, fn, inputs, **options):
    cp = lib.utils.checkpoint
    tensors = [lib.tensor(a, requires_grad=True) for a in inputs]
    context_fn = functools.partial(cp.create_selective_checkpoint_contexts, policy_of(lib), **options)
    out = cp.checkpoint(fn(lib), *tensors, use_reentrant=False, context_fn=context_fn)
    out.sum().backward()
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


def _every_other_mm(lib):
    count = [0]
    policy = lib.utils.checkpoint.CheckpointPolicy

    def policy_fn(ctx, op, *args, **kwargs):
        if op == lib.ops.aten.mm.default:
            count[0] += 1
            return policy.MUST_SAVE if count[0] % 2 else policy.PREFER_RECOMPUTE
        return op == lib.ops.aten.sigmoid.default   # a bool answers too
    return policy_fn


def _chain(lib):
    return lambda x, y: lib.sigmoid(lib.matmul(lib.matmul(x, y), y)) * y


@pytest.mark.parametrize("policy_of", [lambda lib: [lib.ops.aten.mm.default], _every_other_mm,
                                       lambda lib: lambda ctx, op, *a, **k: True])
def test_saved_ops_give_plain_checkpointings_results(policy_of):
    inputs = _arrays((4, 4), (4, 4))
    ours, theirs = _saving(ember, policy_of, _chain, inputs), _saving(torch, policy_of, _chain, inputs)
    plain = [ember.tensor(a, requires_grad=True) for a in inputs]
    ember.utils.checkpoint.checkpoint(_chain(ember), *plain, use_reentrant=False).sum().backward()
    for a, b, c in zip(ours[1], theirs[1], [t.grad.numpy() for t in plain]):
        numpy.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        numpy.testing.assert_allclose(a, c, rtol=1e-6, atol=1e-7)


def test_policy_is_given_each_ops_output():
    def shapes(lib):
        seen = []
        cp = lib.utils.checkpoint

        def policy(ctx, op, *args, **kwargs):
            if op != lib.ops.aten.t.default:   # (ember gives the op call's result: linear's, not its t's)
                seen.append((str(op), tuple(ctx.op_output.shape)))
            return op == lib.ops.aten.addmm.default
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 5), lib.nn.Tanh(), lib.nn.Linear(5, 2))
        x = lib.ones(4, 3, requires_grad=True)
        cp.checkpoint(model, x, use_reentrant=False,
                      context_fn=functools.partial(cp.create_selective_checkpoint_contexts, policy)).sum().backward()
        return seen, x.grad.numpy()
    ours, theirs = shapes(ember), shapes(torch)
    assert ours[0] == theirs[0]
    numpy.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5)


def _mutating(lib):
    def fn(x):
        a = lib.mm(x, x)
        b = a.sin()
        a.mul_(2)
        return b * 3
    return fn


def _error(lib, call):
    with pytest.raises(Exception) as info:
        call(lib)
    return type(info.value).__name__, str(info.value)


def test_mutated_saved_result_raises_torchs_error():
    inputs = _arrays((4, 4))
    call = functools.partial(_saving, policy_of=lambda lib: [lib.ops.aten.mm.default], fn=_mutating, inputs=inputs)
    assert _error(ember, call) == _error(torch, call)


def test_bad_policies_raise_torchs_errors():
    for bad in (lambda lib: [lib.ops.aten.mm], lambda lib: 3):
        ours = _error(ember, lambda lib: lib.utils.checkpoint.create_selective_checkpoint_contexts(bad(lib)))
        theirs = _error(torch, lambda lib: lib.utils.checkpoint.create_selective_checkpoint_contexts(bad(lib)))
        # the class of the op is printed with its module (torch._ops there)
        assert (ours[0], ours[1].split(" of type")[0], ours[1].split(">. ")[-1]) == \
            (theirs[0], theirs[1].split(" of type")[0], theirs[1].split(">. ")[-1])


def test_policy_enum_and_context_as_torchs():
    ours, theirs = ember.utils.checkpoint, torch.utils.checkpoint
    assert [(p.name, p.value) for p in ours.CheckpointPolicy] == [(p.name, p.value) for p in theirs.CheckpointPolicy]
    a, b = ours.SelectiveCheckpointContext(is_recompute=False), theirs.SelectiveCheckpointContext(is_recompute=False)
    assert (a.is_recompute, a.op_output) == (b.is_recompute, b.op_output)
    assert {str(op) for op in ours.SAC_IGNORED_OPS} <= {str(op) for op in theirs.SAC_IGNORED_OPS}


@pytest.mark.parametrize("ops", [["mm"], []])
def test_second_backward_through_saved_ops_raises_as_torch(ops):
    """PyTorch recomputes a region in each backward and hands out saved results once: a second backward (with
    retain_graph) raises where some op was saved, and works where none was."""
    inputs = _arrays((4, 4), (4, 4))

    def run(lib):
        cp = lib.utils.checkpoint
        x, y = (lib.tensor(a, requires_grad=True) for a in inputs)
        context_fn = functools.partial(cp.create_selective_checkpoint_contexts,
                                       [getattr(lib.ops.aten, op).default for op in ops])
        out = cp.checkpoint(_chain(lib), x, y, use_reentrant=False, context_fn=context_fn).sum()
        out.backward(retain_graph=True)
        first = x.grad.clone()
        out.backward()
        return (first.numpy(), x.grad.numpy())
    ours, theirs = _error_or(run, ember), _error_or(run, torch)
    assert type(ours) is type(theirs)
    if isinstance(ours, str):
        assert ours == theirs
    else:
        for a, b in zip(ours, theirs):
            numpy.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _error_or(run, lib):
    try:
        return run(lib)
    except RuntimeError as error:
        return str(error)


def test_no_policy_calls_without_grad_and_suppressed_errors_raise_as_torch():
    import contextlib

    class Swallowing:
        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            return True

    def run(lib):
        cp, asked = lib.utils.checkpoint, []
        x = lib.ones(3, 3, requires_grad=True)
        context_fn = functools.partial(cp.create_selective_checkpoint_contexts,
                                       lambda ctx, op, *a, **k: asked.append(str(op)) or cp.CheckpointPolicy.MUST_SAVE)
        with lib.no_grad():
            plain = cp.checkpoint(lambda t: (t @ t).relu(), x, use_reentrant=False, context_fn=context_fn)
        with lib.inference_mode():
            cp.checkpoint(lambda t: t * 2, x, use_reentrant=False, context_fn=context_fn)
        answers = [asked, plain.requires_grad, plain.sum().item()]
        with pytest.raises(RuntimeError) as error:
            cp.checkpoint(lambda t: t / 0 + [], x, use_reentrant=False,
                          context_fn=lambda: (Swallowing(), contextlib.nullcontext()))
        return answers + [str(error.value)]
    assert run(ember) == run(torch)


@pytest.mark.parametrize("nesting", ["plain_in_selective", "selective_in_plain"])
def test_nested_checkpoints_with_saved_ops(nesting):
    inputs = _arrays((3, 3), (3, 3))

    def run(lib):
        cp = lib.utils.checkpoint
        x, w = (lib.tensor(a, requires_grad=True) for a in inputs)
        selective = functools.partial(cp.create_selective_checkpoint_contexts, [lib.ops.aten.mm.default])
        inner_context, outer_context = (cp.noop_context_fn, selective) if nesting == "plain_in_selective" else \
            (selective, cp.noop_context_fn)

        def outer(a):
            inner = cp.checkpoint(lambda b: (b @ w).tanh(), a @ w, use_reentrant=False, context_fn=inner_context)
            return inner.sigmoid() @ w
        cp.checkpoint(outer, x, use_reentrant=False, context_fn=outer_context).sum().backward()
        return x.grad.numpy(), w.grad.numpy()
    for a, b in zip(run(ember), run(torch)):
        numpy.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_policy_output_types_and_in_place_changes_of_saved_results_as_torch():
    """op_output is what the ATen op returns (a plain tuple for max.dim, a list for split); saving everything and
    then changing a saved result in place raises in backward, as PyTorch's rerun in every backward finds it."""
    inputs = _arrays((4, 5))

    def run(lib, fn):
        seen, cp = [], lib.utils.checkpoint

        def policy(ctx, op, *args, **kwargs):
            out = ctx.op_output
            seen.append((str(op), type(out).__name__ if not isinstance(out, lib.Tensor) else tuple(out.shape)))
            return cp.CheckpointPolicy.MUST_SAVE
        x = lib.tensor(inputs[0], requires_grad=True)
        try:
            context_fn = functools.partial(cp.create_selective_checkpoint_contexts, policy)
            cp.checkpoint(fn(lib), x, use_reentrant=False, context_fn=context_fn).sum().backward()
        except RuntimeError as error:
            return seen, str(error)
        return seen, x.grad.numpy().round(4).tolist()
    for fn in (lambda lib: lambda t: t.max(dim=1).values.sum() * t,
               lambda lib: lambda t: lib.cat([p * 2 for p in t.split(2, dim=1)], 1),
               lambda lib: lambda t: (t * 2).relu_() + t, lambda lib: lambda t: (t * 2).add_(t).exp()):
        assert run(ember, fn) == run(torch, fn)
