"""Private helpers of PyTorch that libraries call: ``torch._C._nn._parse_to`` (fastai's DataLoader reads its device
with it) and ``torch._utils._flatten_dense_tensors`` / ``_unflatten_dense_tensors`` (fastai's fp16 utilities, DDP
buckets), each compared with PyTorch."""
import importlib
import warnings

import numpy as np
import pytest

import ember
from ember import _utils

torch = pytest.importorskip("torch")


def _parse_to_calls(lib):
    return [((), {"device": None}), ((), {"device": "cpu"}), (("cpu", lib.float16), {}), ((lib.float64,), {}),
            ((lib.zeros(2, dtype=lib.int32),), {}),
            (("cpu",), {"non_blocking": True, "memory_format": lib.channels_last}),
            ((lib.device("cpu"), lib.float32, True), {}), ((lib.float16, True), {}), ((), {})]


def _described(result):
    return tuple(None if part is None else str(part).replace("ember.", "torch.") for part in result)


def test_parse_to_as_torch():
    parse = importlib.import_module("ember._C._nn")._parse_to
    assert parse is ember._C._nn._parse_to
    for ours, theirs in zip(_parse_to_calls(ember), _parse_to_calls(torch)):
        assert _described(parse(*ours[0], **ours[1])) == _described(torch._C._nn._parse_to(*theirs[0], **theirs[1]))


@pytest.mark.parametrize("args, kwargs, error", [((ember.float16, True, True), {}, RuntimeError),
                                                 ((ember.float16,), {"copy": True}, RuntimeError),
                                                 ((), {"foo": 1}, TypeError)])
def test_parse_to_errors_as_torch(args, kwargs, error):
    theirs = tuple(getattr(torch, str(a).split(".")[1]) if isinstance(a, ember.dtype) else a for a in args)
    with pytest.raises(error):
        torch._C._nn._parse_to(*theirs, **kwargs)
    with pytest.raises(error):
        ember._C._nn._parse_to(*args, **kwargs)


def _tensors(lib):
    rng = np.random.default_rng(0)
    return [lib.tensor(rng.standard_normal((2, 3)).astype(np.float32)),
            lib.tensor(rng.standard_normal(4).astype(np.float32)),
            lib.zeros(0, 5), lib.tensor(rng.standard_normal((3, 2)).astype(np.float32)).t()]


def test_flatten_and_unflatten_dense_tensors_as_torch():
    ours, theirs = _tensors(ember), _tensors(torch)
    flat, their_flat = _utils._flatten_dense_tensors(ours), torch._utils._flatten_dense_tensors(theirs)
    np.testing.assert_array_equal(flat.numpy(), their_flat.numpy())
    pieces = _utils._unflatten_dense_tensors(flat, ours)
    their_pieces = torch._utils._unflatten_dense_tensors(their_flat, theirs)
    assert [tuple(p.shape) for p in pieces] == [tuple(p.shape) for p in their_pieces] == [(2, 3), (4,), (0, 5), (2, 3)]
    for piece, theirs_piece in zip(pieces, their_pieces):
        np.testing.assert_array_equal(piece.numpy(), theirs_piece.numpy())
    pieces[1][0] = 100.0   # views of the flat buffer, as torch's
    assert flat[6].item() == 100.0
    lone = ember.ones(3)
    assert _utils._flatten_dense_tensors([lone]).data_ptr() == lone.data_ptr()   # a lone tensor: a view
    for flatten in (torch._utils._flatten_dense_tensors, _utils._flatten_dense_tensors):
        with pytest.raises(ValueError, match="expected a non-empty list of Tensors"):
            flatten([])


def test_worker_generate_state_as_torch():
    ours = importlib.import_module("ember.utils.data._utils.worker")._generate_state
    theirs = importlib.import_module("torch.utils.data._utils.worker")._generate_state
    for base_seed, worker_id in [(0, 0), (123456789, 3), (2 ** 63 - 1, 7)]:
        assert ours(base_seed, worker_id) == theirs(base_seed, worker_id)
        assert type(ours(base_seed, worker_id)) is list


def test_available_device_type_as_torch_without_an_accelerator():
    assert _utils._get_available_device_type() == torch._utils._get_available_device_type() is None


def test_pytree_sequence_node_functions_as_torch():
    ours, theirs = importlib.import_module("ember.utils._pytree"), importlib.import_module("torch.utils._pytree")
    for name, node in [("_list", [1, [2]]), ("_tuple", (1, (2,)))]:
        flat, context = getattr(ours, f"{name}_flatten")(node)
        their_flat, their_context = getattr(theirs, f"{name}_flatten")(node)
        assert (list(flat), context) == (list(their_flat), their_context)
        rebuilt = getattr(ours, f"{name}_unflatten")(flat, context)
        assert rebuilt == getattr(theirs, f"{name}_unflatten")(their_flat, their_context) == node
        assert type(rebuilt) is type(node)
        keyed = [(key.idx, value) for key, value in getattr(ours, f"{name}_flatten_with_keys")(node)[0]]
        assert keyed == [(key.idx, value) for key, value in getattr(theirs, f"{name}_flatten_with_keys")(node)[0]]

    class Linked(list):   # tensordict registers a list subclass with list's functions
        pass

    for lib, module in ((ember, ours), (torch, theirs)):
        module.register_pytree_node(Linked, module._list_flatten, module._list_unflatten,
                                    flatten_with_keys_fn=module._list_flatten_with_keys)
        try:
            leaves, spec = module.tree_flatten(Linked([lib.ones(1), 2]))
            assert len(leaves) == 2 and module.tree_unflatten(leaves, spec) == [leaves[0], 2]
        finally:
            module.SUPPORTED_NODES.pop(Linked)


def _contextlib_story(lib):
    contextlib = importlib.import_module(f"{lib.__name__}.utils._contextlib")
    events = []

    class Recorded(contextlib._DecoratorContextManager):
        def __enter__(self):
            events.append("enter")

        def __exit__(self, *exc):
            events.append("exit")

    class Bare(contextlib._NoParamDecoratorContextManager):
        def __enter__(self):
            events.append("bare")

        def __exit__(self, *exc):
            pass

    @Recorded()
    def function(x):
        events.append(x)
        return x + 1

    @Recorded()
    def generator():
        got = yield 1
        events.append(got)
        yield 2

    @Bare
    def plain():
        return "plain"

    out = [function(1)]
    steps = generator()
    out += [next(steps), steps.send("sent"), plain()]
    out.append(contextlib.context_decorator(lambda: Recorded(), lambda: "factory")())
    out.append(isinstance(lib.no_grad(), contextlib._DecoratorContextManager))
    out.append(isinstance(lib.enable_grad(), contextlib._NoParamDecoratorContextManager))
    return out, events


def test_contextlib_decorator_context_managers_as_torch():
    assert _contextlib_story(ember) == _contextlib_story(torch)


def _batched_story(lib):
    functorch_c = importlib.import_module(f"{lib.__name__}._C._functorch")
    vmap_src = importlib.import_module(f"{lib.__name__}._functorch.vmap")
    seen = []

    def per_example(x):
        seen.extend([functorch_c.is_batchedtensor(x), tuple(functorch_c.get_unwrapped(x).shape), tuple(x.shape)])
        return x * 2

    out = lib.vmap(per_example)(lib.arange(6.0).reshape(3, 2))
    plain = lib.arange(4.0)
    expanded = vmap_src._maybe_remove_batch_dim("f", plain, 1, 3, 0)   # not batched at that level: broadcast
    kept = vmap_src._maybe_remove_batch_dim("f", 5, 1, 3, None)
    spec = importlib.import_module(f"{lib.__name__}.utils._pytree").tree_flatten(((1, 2), {"a": 3}))[1]
    flat = vmap_src._broadcast_to_and_flatten((0, {"a": 1}), spec)
    mismatch = vmap_src._broadcast_to_and_flatten((0, 1, 2), spec)
    return (seen, out.tolist(), functorch_c.is_batchedtensor(plain), expanded.tolist(), kept, flat, mismatch,
            vmap_src._get_name(per_example))


def test_vmap_batched_tensor_helpers_as_torch():
    assert _batched_story(ember) == _batched_story(torch)
    with pytest.raises(ValueError, match="must only return Tensors"):
        importlib.import_module("ember._functorch.vmap")._maybe_remove_batch_dim("f", 5, 1, 3, 0)


def _swap_story(lib):
    accessor = importlib.import_module(f"{lib.__name__}.nn.utils._named_member_accessor")
    layer = lib.nn.BatchNorm1d(2)
    layer.extra = lib.zeros(1)
    new_weight, new_mean = lib.nn.Parameter(lib.full((2,), 3.0)), lib.full((2,), 7.0)
    old = [accessor.swap_tensor(layer, "weight", new_weight), accessor.swap_tensor(layer, "running_mean", new_mean),
           accessor.swap_tensor(layer, "extra", lib.ones(1)), accessor.swap_tensor(layer, "fresh", lib.ones(2),
                                                                                   allow_missing=True)]
    story = [type(old[0]).__name__, old[0].tolist(), old[1].tolist(), old[2].tolist(), old[3] is accessor._MISSING,
             layer.weight is new_weight, layer.running_mean is new_mean, layer.fresh.tolist()]
    accessor.swap_tensor(layer, "extra", accessor._MISSING)
    story.append(hasattr(layer, "extra"))
    for call, error in [(lambda: accessor.swap_tensor(layer, "a.b", lib.ones(1)), KeyError),
                        (lambda: accessor.swap_tensor(layer, "nothing", lib.ones(1)), AttributeError),
                        (lambda: accessor.swap_tensor(layer, "training", lib.ones(1)), TypeError),
                        (lambda: accessor.swap_tensor(layer, "weight", 3), TypeError)]:
        with pytest.raises(error):
            call()
    return story


def test_swap_tensor_as_torch():
    assert _swap_story(ember) == _swap_story(torch)


def test_jit_profiling_flags_return_the_previous_value_as_torch():
    # speechbrain's import calls both with False; each returns the flag it replaced (the defaults are True)
    def calls(lib):
        flags = [(lib._C._jit_set_profiling_executor, flag) for flag in (False, False, True, True)]
        flags += [(lib._C._jit_set_profiling_mode, flag) for flag in (False, True, True, False, True)]
        return [setter(flag) for setter, flag in flags]
    assert calls(ember) == calls(torch)


def test_is_tracing_as_torch():
    def seen(lib):
        flags = [lib._C._is_tracing()]

        def f(x):
            flags.append(lib._C._is_tracing())
            return x * 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)   # torch 2.13 deprecates torch.jit.trace
            lib.jit.trace(f, lib.ones(2))
        flags.append(lib._C._is_tracing())
        return flags[:2] + flags[-1:]   # before, the traced call, after (ember's check_trace also runs f eagerly)
    assert seen(ember) == seen(torch) == [False, True, False]
