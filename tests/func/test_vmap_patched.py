"""vmap goes through ``torch._functorch.vmap``'s module-level functions, looked up at each call: replacing
``_process_batched_inputs``, ``_create_batched_inputs`` and ``_unwrap_batched`` there (as tensordict does, to vmap
over TensorDicts) changes what ``vmap`` does, in ember as in torch 2.13, chunked or not. A small container type
stands in for TensorDict."""
import numpy
import pytest
import torch
import torch._functorch.vmap

import ember
import ember._functorch.vmap

rng = numpy.random.default_rng(3)
A = rng.standard_normal((4, 3)).astype(numpy.float32)
B = rng.standard_normal((2, 4)).astype(numpy.float32)
X = rng.standard_normal((4, 3)).astype(numpy.float32)


class Pair:
    """Two tensors batched together, along dim ``in_dim`` of ``a`` and dim 1 of ``b`` (as a TensorDict's entries
    share its batch dims): a pytree leaf, so only the patched functions can batch it."""

    def __init__(self, a, b):
        self.a, self.b = a, b


def patch(monkeypatch, mod):
    """Replaces the three functions of ``mod`` (ember's or torch's ``_functorch.vmap``) as tensordict does, the
    originals handling everything that is not a Pair; returns the names of the patched functions called."""
    calls = []
    create, unwrap = mod._create_batched_inputs, mod._unwrap_batched

    def _process_batched_inputs(in_dims, args, func):
        calls.append("process")
        flat_args, spec = mod.tree_flatten(args)
        flat_in_dims = mod._broadcast_to_and_flatten(in_dims, spec)
        sizes = [arg.a.size(d) if isinstance(arg, Pair) else arg.size(d)
                 for arg, d in zip(flat_args, flat_in_dims) if d is not None]
        return sizes[0], flat_in_dims, flat_args, spec

    def _create_batched_inputs(flat_in_dims, flat_args, vmap_level, args_spec):
        calls.append("create")
        pairs = {i: arg for i, arg in enumerate(flat_args) if isinstance(arg, Pair)}
        plain_dims = [None if i in pairs else d for i, d in enumerate(flat_in_dims)]
        batched = mod.tree_flatten(create(plain_dims, flat_args, vmap_level, args_spec))[0]
        for i, pair in pairs.items():
            batched[i] = Pair(mod._add_batch_dim(pair.a, flat_in_dims[i], vmap_level),
                              mod._add_batch_dim(pair.b, 1, vmap_level))
        return mod.tree_unflatten(batched, args_spec)

    def _unwrap_batched(batched_outputs, out_dims, vmap_level, batch_size, func):
        calls.append("unwrap")
        if not isinstance(batched_outputs, Pair):
            return unwrap(batched_outputs, out_dims, vmap_level, batch_size, func)
        name = mod._get_name(func)
        return Pair(mod._maybe_remove_batch_dim(name, batched_outputs.a, vmap_level, batch_size, out_dims),
                    mod._maybe_remove_batch_dim(name, batched_outputs.b, vmap_level, batch_size, 1))

    for fn in (_process_batched_inputs, _create_batched_inputs, _unwrap_batched):
        monkeypatch.setattr(mod, fn.__name__, fn)
    return calls


def pair_step(pair, x):
    """One example: a Pair in, a Pair out, with ops mixing its entries and a plain batched tensor."""
    return Pair(pair.a * x + pair.b.sum(), (pair.b - x.mean()).exp())


def run(lib, in_dims, out_dims):
    pair = Pair(lib.tensor(A), lib.tensor(B))
    return lib.vmap(pair_step, in_dims=in_dims, out_dims=out_dims)(pair, lib.tensor(X))


@pytest.mark.parametrize("in_dims,out_dims", [(0, 0), ((0, 0), 1), ((0, 0), -1)])
def test_patched_functions_batch_a_container(monkeypatch, in_dims, out_dims):
    calls = {lib: patch(monkeypatch, mod) for lib, mod in ((ember, ember._functorch.vmap),
                                                          (torch, torch._functorch.vmap))}
    got, want = run(ember, in_dims, out_dims), run(torch, in_dims, out_dims)
    assert calls[ember] == calls[torch] == ["process", "create", "unwrap"]
    for name in ("a", "b"):
        numpy.testing.assert_allclose(getattr(got, name).numpy(), getattr(want, name).numpy(), rtol=1e-6, atol=1e-6)
        assert tuple(getattr(got, name).shape) == tuple(getattr(want, name).shape)


def test_patched_functions_leave_plain_tensors_alone(monkeypatch):
    for mod in (ember._functorch.vmap, torch._functorch.vmap):
        patch(monkeypatch, mod)
    results = [lib.vmap(lambda x, y: (x * y).sum(), in_dims=(1, None))(lib.tensor(A), lib.tensor(X[:, 0]))
               for lib in (ember, torch)]
    numpy.testing.assert_allclose(results[0].numpy(), results[1].numpy(), rtol=1e-6)


def test_unpatched_vmap_refuses_the_container():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="We cannot vmap over non-Tensor arguments"):
            run(lib, 0, 0)


def test_chunks_go_through_the_patched_functions(monkeypatch):
    calls = {lib: patch(monkeypatch, mod) for lib, mod in ((ember, ember._functorch.vmap),
                                                          (torch, torch._functorch.vmap))}
    results = [lib.vmap(lambda x, y: x * y.sum(), chunk_size=3)(lib.tensor(X), lib.tensor(A))
               for lib in (ember, torch)]
    assert calls[ember] == calls[torch] == ["process"] + ["create", "unwrap"] * 2
    numpy.testing.assert_allclose(results[0].numpy(), results[1].numpy(), rtol=1e-6)


def test_chunked_lone_tensor_takes_a_one_element_out_dims_tuple():
    """As unchunked vmap (torch 2.13's chunked path asserts here, so its unchunked result is the reference)."""
    want = torch.vmap(lambda a: a * 2, out_dims=(1,))(torch.tensor(X))
    got = ember.vmap(lambda a: a * 2, out_dims=(1,), chunk_size=3)(ember.tensor(X))
    numpy.testing.assert_array_equal(got.numpy(), want.numpy())
