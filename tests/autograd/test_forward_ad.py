"""autograd.forward_ad against torch.autograd.forward_ad: levels, make_dual/unpack_dual and their errors (type and
message), tangents through views, in-place writes, grad modes, custom Functions, and reverse mode beside it."""
import warnings

import numpy
import pytest
import torch
import torch.autograd.forward_ad as tfw

import ember
import ember.autograd.forward_ad as efw

with warnings.catch_warnings():   # torch's make_dual imports these on first use, with a DeprecationWarning
    warnings.simplefilter("ignore")
    import torch._decomp.decompositions_for_jvp  # noqa: F401

LIBS = ((torch, tfw), (ember, efw))


def raised(call):
    """``(type name, message)`` of what ``call()`` raises; dtype names read as torch's."""
    with pytest.raises(Exception) as error:
        call()
    return type(error.value).__name__, str(error.value).replace("ember.", "torch.")


def same_error(call):
    """``call(lib, fw)`` raises the same exception type and message in torch and ember."""
    assert raised(lambda: call(ember, efw)) == raised(lambda: call(torch, tfw))


def arrays(shape=(3,), seed=0):
    rng = numpy.random.default_rng(seed)
    return rng.standard_normal(shape), rng.standard_normal(shape)


def tangent_array(fw, tensor):
    tangent = fw.unpack_dual(tensor).tangent
    return None if tangent is None else tangent.detach().numpy()


# --- levels ----------------------------------------------------------------------------------------------------------
def test_public_names_match_torch():
    assert sorted(efw.__all__) == sorted(tfw.__all__)
    assert efw.UnpackedDualTensor._fields == tfw.UnpackedDualTensor._fields
    assert ember.autograd.forward_ad is efw


def test_levels_enter_and_exit_as_torch():
    for lib, fw in LIBS:
        with fw.dual_level() as level:
            assert level == 0
        assert fw.enter_dual_level() == 0
        fw.exit_dual_level()


@pytest.mark.parametrize("call", [
    lambda lib, fw: fw.exit_dual_level(),
    lambda lib, fw: fw.exit_dual_level(level=0),
    lambda lib, fw: fw.make_dual(lib.ones(2), lib.ones(2)),
], ids=["exit-without-level", "exit-wrong-level", "make-dual-without-level"])
def test_errors_outside_a_level(call):
    same_error(call)


@pytest.mark.parametrize("call", [
    lambda lib, fw: fw.enter_dual_level(),
    lambda lib, fw: fw.dual_level().__enter__(),
    lambda lib, fw: fw.exit_dual_level(level=1),
    lambda lib, fw: fw.make_dual(lib.ones(3), lib.ones(4)),
    lambda lib, fw: fw.make_dual(lib.ones(3, dtype=lib.int64), lib.ones(3)),
    lambda lib, fw: fw.make_dual(lib.ones(3), lib.ones(3, dtype=lib.int64)),
    lambda lib, fw: fw.make_dual(lib.ones(3), lib.ones(3), level=1),
    lambda lib, fw: fw.make_dual(lib.ones(3), lib.ones(3), level=-1),
    lambda lib, fw: fw.make_dual(fw.make_dual(lib.ones(3), lib.ones(3)), lib.ones(3)),
    lambda lib, fw: fw.make_dual(lib.ones(3), 2.0),
    lambda lib, fw: fw.make_dual(2.0, lib.ones(3)),
    lambda lib, fw: fw.unpack_dual(fw.make_dual(lib.ones(3), lib.ones(3)).max(0)),
    lambda lib, fw: fw.unpack_dual(fw.make_dual(lib.ones(3), lib.ones(3)), level=1),
], ids=["nested-enter", "nested-context", "exit-other-level", "sizes", "integer-primal", "integer-tangent",
        "unknown-level", "negative-level", "already-dual", "tangent-not-tensor", "primal-not-tensor",
        "unpack-not-tensor", "unpack-other-level"])
def test_errors_inside_a_level(call):
    with tfw.dual_level(), efw.dual_level():
        same_error(call)


def test_dual_level_as_decorator_and_tangents_cleared_on_exit():
    x, t = arrays()
    for lib, fw in LIBS:
        kept = []

        @fw.dual_level()
        def run():
            dual = fw.make_dual(lib.tensor(x), lib.tensor(t))
            kept.append(dual * 2)
            return tangent_array(fw, kept[-1])
        numpy.testing.assert_allclose(run(), 2 * t)
        assert fw.unpack_dual(kept[0]).tangent is None
        with fw.dual_level():
            assert fw.unpack_dual(kept[0]).tangent is None


def test_exit_after_an_error_inside_the_level():
    for lib, fw in LIBS:
        with pytest.raises(ZeroDivisionError), fw.dual_level():
            raise ZeroDivisionError
        with fw.dual_level() as level:
            assert level == 0


# --- make_dual and unpack_dual ----------------------------------------------------------------------------------------
def test_make_dual_aliases_primal_and_keeps_tangent_as_is():
    x, t = arrays()
    for lib, fw in LIBS:
        primal, tangent = lib.tensor(x), lib.tensor(t)
        with fw.dual_level():
            dual = fw.make_dual(primal, tangent)
            assert dual is not primal and dual._base is primal
            unpacked = fw.unpack_dual(dual)
            assert isinstance(unpacked, fw.UnpackedDualTensor)
            assert unpacked.tangent is tangent
            assert unpacked.primal._base is primal
            assert fw.unpack_dual(unpacked.primal).tangent is None
            assert fw.unpack_dual(primal).tangent is None
            assert fw.unpack_dual(primal, level=1).tangent is None
        assert fw.unpack_dual(dual).primal is dual


def test_primal_of_an_op_result_is_not_dual():
    x, t = arrays()
    for lib, fw in LIBS:
        with fw.dual_level():
            out = fw.make_dual(lib.tensor(x), lib.tensor(t)) * 2
            primal = fw.unpack_dual(out).primal
            assert fw.unpack_dual(primal).tangent is None
            assert fw.unpack_dual(primal[1:]).tangent is None
            assert fw.unpack_dual(out[1:]).tangent is not None


def test_make_dual_is_differentiable_in_reverse_mode():
    x, t = arrays()
    for lib, fw in LIBS:
        primal = lib.tensor(x, requires_grad=True)
        with fw.dual_level():
            dual = fw.make_dual(primal, lib.tensor(t))
            assert dual.requires_grad
            loss = (dual * dual).sum()
            numpy.testing.assert_allclose(tangent_array(fw, loss), 2 * (x * t).sum())
            loss.backward()
        numpy.testing.assert_allclose(primal.grad.numpy(), 2 * x)


@pytest.mark.parametrize("make", [
    lambda lib: (lib.arange(4.0)[::2], lib.ones(2)),
    lambda lib: (lib.arange(4.0), lib.arange(8.0)[::2]),
    lambda lib: (lib.arange(12.0).reshape(3, 4).t(), lib.ones(4, 3)),
    lambda lib: (lib.arange(12.0).reshape(3, 4)[:, 1:3], lib.ones(3, 2)),
    lambda lib: (lib.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)[::2], lib.arange(12.0).reshape(2, 2, 3)),
], ids=["gaps", "strided-tangent", "transposed", "columns", "permuted-gaps"])
def test_tangent_copied_into_the_primals_strides(make):
    strides = []
    for lib, fw in LIBS:
        primal, tangent = make(lib)
        with fw.dual_level():
            got = fw.unpack_dual(fw.make_dual(primal, tangent)).tangent
            assert bool((got == tangent).all())
            strides.append(got.stride())
    assert strides[1] == strides[0]


def test_tangent_layout_follows_the_primal():
    x = numpy.arange(6.0).reshape(2, 3)
    for lib, fw in LIBS:
        with fw.dual_level():
            dual = fw.make_dual(lib.tensor(x).t(), lib.tensor(x.T.copy()))
            tangent = fw.unpack_dual(dual).tangent
            assert tangent.stride() == dual.stride() == (1, 3)
            numpy.testing.assert_array_equal(tangent.numpy(), x.T)


# --- what carries tangents -------------------------------------------------------------------------------------------
def compare(call, *arrays_and_tangents):
    """Runs ``call(lib, *duals)`` in both libraries; primals and tangents (None included) must agree."""
    results = []
    for lib, fw in LIBS:
        with fw.dual_level():
            duals = [fw.make_dual(lib.tensor(a), lib.tensor(t)) if t is not None else lib.tensor(a)
                     for a, t in arrays_and_tangents]
            out = call(lib, *duals)
            outs = out if isinstance(out, (tuple, list)) else (out,)
            results.append([(o.detach().numpy().copy(), tangent_array(fw, o)) for o in outs])
    for (tp, tt), (ep, et) in zip(*results):
        numpy.testing.assert_allclose(ep, tp, rtol=1e-6, atol=1e-9)
        assert (et is None) == (tt is None)
        if tt is not None:
            numpy.testing.assert_allclose(et, tt, rtol=1e-6, atol=1e-9)
    return results[1]


def test_non_differentiable_outputs_have_no_tangent():
    x, t = arrays((3, 4))
    compare(lambda lib, d: (d.argmax(), d > 0, d.long(), d.max(1).indices, d.max(1).values), (x, t))


def test_tangent_of_an_input_without_tangent_is_zero():
    x, t = arrays((3,))
    compare(lambda lib, d, e: (d + e, d * e, e.sin()), (x, t), (x + 1, None))


def test_tangents_flow_under_no_grad_but_not_inference_mode():
    x, t = arrays()
    compare(lambda lib, d: _under(lib.no_grad(), lambda: (d.sin() * 2, d.exp())), (x, t))
    compare(lambda lib, d: _under(lib.inference_mode(), lambda: d.sin()), (x, t))


def _under(manager, call):
    with manager:
        return call()


def test_view_tangents_are_views_of_the_tangent():
    x, t = arrays((2, 3))
    for lib, fw in LIBS:
        with fw.dual_level():
            tangent = lib.tensor(t)
            dual = fw.make_dual(lib.tensor(x), tangent)
            for view in (dual.t(), dual[1:], dual[0], dual.view(6), dual.unsqueeze(0), dual.select(1, 2),
                         dual.expand(4, 2, 3), dual.permute(1, 0), dual.diagonal(), dual.unbind(0)[1],
                         dual.split(1, 1)[2]):
                view_tangent = fw.unpack_dual(view).tangent
                assert view_tangent._base is tangent, view
                assert view_tangent.stride() == view.stride()


def test_in_place_ops_write_into_the_tangent():
    x, t = arrays((2, 3))
    compare(lambda lib, d: (d.mul_(2), d.sin_(), d[0].add_(1.5), d), (x, t))
    compare(lambda lib, d: (d.zero_(), d), (x, t))
    compare(lambda lib, d: (d.copy_(lib.ones(2, 3, dtype=lib.float64)), d), (x, t))


def test_in_place_write_of_a_dual_into_a_plain_tensor_and_its_base():
    x, t = arrays((2, 3))

    def write(lib, d):
        target = lib.zeros(4, 3, dtype=lib.float64)
        earlier_view = target[:, 1]
        target[1:3].add_(d)
        column = lib.zeros(3, 2, dtype=lib.float64)
        column[:, 0] = d[0]
        whole = lib.zeros(2, 3, dtype=lib.float64)
        whole.copy_(d)
        return target, earlier_view, column, whole
    compare(write, (x, t))


def test_in_place_write_keeps_the_user_tangent_object():
    x, t = arrays()
    for lib, fw in LIBS:
        with fw.dual_level():
            tangent = lib.tensor(t)
            dual = fw.make_dual(lib.tensor(x), tangent)
            dual.mul_(3)
            assert fw.unpack_dual(dual).tangent is tangent
            numpy.testing.assert_allclose(tangent.numpy(), 3 * t)


def test_complex_tangents():
    rng = numpy.random.default_rng(4)
    z = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    v = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    compare(lambda lib, d: (d.abs(), d * d.conj(), d.real, lib.view_as_real(d), d.angle(), d @ d.t(), d / (d + 2)),
            (z, v))


def test_tangent_that_requires_grad_gives_a_differentiable_tangent():
    x, t = arrays()
    for lib, fw in LIBS:
        tangent = lib.tensor(t, requires_grad=True)
        with fw.dual_level():
            out = fw.make_dual(lib.tensor(x), tangent).sin()
            jvp = fw.unpack_dual(out).tangent
            assert jvp.requires_grad
            jvp.sum().backward()
        numpy.testing.assert_allclose(tangent.grad.numpy(), numpy.cos(x))


def test_mixed_with_reverse_mode_gradients():
    x, t = arrays((2, 3))
    w = numpy.random.default_rng(5).standard_normal((3, 2))
    for lib, fw in LIBS:
        weight = lib.tensor(w, requires_grad=True)
        with fw.dual_level():
            dual = fw.make_dual(lib.tensor(x), lib.tensor(t))
            out = (dual @ weight).tanh().sum()
            assert out.requires_grad
            out.backward()
            numpy.testing.assert_allclose(tangent_array(fw, out), ((1 - numpy.tanh(x @ w) ** 2) * (t @ w)).sum())
        numpy.testing.assert_allclose(weight.grad.numpy(), x.T @ (1 - numpy.tanh(x @ w) ** 2))


def test_custom_function_needs_jvp():
    class Double(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    class TorchDouble(torch.autograd.Function):
        forward, backward = Double.forward, Double.backward

    x, t = arrays()
    with tfw.dual_level(), efw.dual_level():
        assert raised(lambda: Double.apply(efw.make_dual(ember.tensor(x), ember.tensor(t)))) == \
            raised(lambda: TorchDouble.apply(tfw.make_dual(torch.tensor(x), torch.tensor(t))))
        assert efw.unpack_dual(Double.apply(ember.tensor(x))).tangent is None


def test_custom_function_jvp_reads_save_for_forward():
    def forward(ctx, x):
        ctx.save_for_forward(x)
        return x.sin()

    def jvp(ctx, tangent):
        x, = ctx.saved_tensors
        return tangent * x.cos()

    functions = [type("Sin", (lib.autograd.Function,), {"forward": staticmethod(forward), "jvp": staticmethod(jvp),
                                                        "backward": staticmethod(lambda ctx, g: g)})
                 for lib in (torch, ember)]
    x, t = arrays()
    for (lib, fw), function in zip(LIBS, functions):
        with fw.dual_level():
            out = function.apply(fw.make_dual(lib.tensor(x), lib.tensor(t)))
            numpy.testing.assert_allclose(tangent_array(fw, out), t * numpy.cos(x))
            assert not fw.unpack_dual(out).tangent.requires_grad


def test_custom_function_jvp_reads_and_deletes_ctx_attributes():
    """Attributes forward sets on ctx are read, and may be deleted, in jvp (the forward-AD tutorial's ``Fn``)."""
    seen = []

    def forward(ctx, x):
        ctx.result = x.exp()
        return ctx.result

    def jvp(ctx, tangent):
        out = tangent * ctx.result
        del ctx.result
        seen.append(hasattr(ctx, "result"))
        return out

    x, t = arrays()
    for lib, fw in LIBS:
        function = type("Exp", (lib.autograd.Function,), {"forward": staticmethod(forward), "jvp": staticmethod(jvp),
                                                          "backward": staticmethod(lambda ctx, g: g)})
        with fw.dual_level():
            out = function.apply(fw.make_dual(lib.tensor(x), lib.tensor(t)))
            numpy.testing.assert_allclose(tangent_array(fw, out), t * numpy.exp(x))
    assert seen == [False, False]


def test_detach_and_data_drop_the_tangent_clone_keeps_it():
    x, t = arrays()
    compare(lambda lib, d: (d.detach(), d.data, d.clone(), d.contiguous()), (x, t))


def test_reverse_over_forward_tangent_is_differentiable_in_the_primals():
    x, t = arrays()
    w = numpy.array([0.7, 0.2, -0.4])
    grads = []
    for lib, fw in LIBS:
        leaves = [lib.tensor(a, requires_grad=True) for a in (x, w, t)]
        with fw.dual_level():
            dual = fw.make_dual(leaves[0], leaves[2])
            out = ((dual * leaves[1]).sin() * dual.exp() + dual.t() @ dual).sum()
            fw.unpack_dual(out).tangent.backward()
        grads.append([leaf.grad.numpy() for leaf in leaves])
    for got, want in zip(grads[1], grads[0]):
        numpy.testing.assert_allclose(got, want, rtol=1e-10)


def test_saved_tensor_hooks_see_only_the_users_graph():
    def packed_shapes(lib, fw, requires_grad, dual):
        packed = []
        x = lib.tensor([0.3, 0.5], requires_grad=requires_grad)
        with fw.dual_level():
            with lib.autograd.graph.saved_tensors_hooks(lambda t: packed.append(tuple(t.shape)) or t, lambda t: t):
                d = fw.make_dual(x, lib.ones(2)) if dual else x * 1
                y = (d.exp() * d).sum()
            if requires_grad:
                y.backward()
                numpy.testing.assert_allclose(x.grad.numpy(), numpy.exp([0.3, 0.5]) * (1 + numpy.array([0.3, 0.5])),
                                              rtol=1e-6)
        return packed
    for lib, fw in LIBS:
        assert packed_shapes(lib, fw, False, True) == []
    assert packed_shapes(ember, efw, True, True) == packed_shapes(ember, efw, True, False)


def test_vmap_over_tangents_matches_torchs_tangents_one_by_one():
    """torch.func.vmap refuses make_dual (no batching rule); ember's batches it, giving torch's per-sample tangents."""
    x, _ = arrays((3, 4))
    directions = numpy.random.default_rng(9).standard_normal((2, 3, 4))

    def jvp(lib, fw, tangent):
        primal = lib.tensor(x)
        with fw.dual_level():
            out = (fw.make_dual(primal, tangent).sin() @ primal.t()).softmax(1)
            return fw.unpack_dual(out).tangent
    batched = ember.func.vmap(lambda t: jvp(ember, efw, t))(ember.tensor(directions))
    for b in range(2):
        numpy.testing.assert_allclose(batched[b].numpy(), jvp(torch, tfw, torch.tensor(directions[b])).numpy(),
                                      rtol=1e-10)


def test_custom_function_jvp_gets_zeros_for_tensors_without_tangent():
    received = []
    for lib, fw in LIBS:
        def jvp(ctx, tx, ty, tk):
            received.append((ty.numpy().tolist(), tk))
            x, y = ctx.saved_tensors
            return tx * y + x * ty, tx + ty

        def forward(ctx, x, y, k):
            ctx.save_for_forward(x, y)
            return x * y * k, x + y
        function = type("Product", (lib.autograd.Function,), {
            "forward": staticmethod(forward), "jvp": staticmethod(jvp),
            "backward": staticmethod(lambda ctx, a, b: (None, None, None))})
        with fw.dual_level():
            first, second = function.apply(fw.make_dual(lib.ones(2), lib.ones(2) * 3), lib.ones(2) * 5, 2.0)
            received.append((tangent_array(fw, first).tolist(), tangent_array(fw, second).tolist()))
    assert received[2:] == received[:2]


def test_repr_shows_the_tangent():
    """A dual tensor prints its tangent after the autograd information (``tangent=`` and the tangent's own repr; a
    0-d tangent as its number), and nothing once the level has exited."""
    x, t = arrays((2, 3))
    reprs = []
    for lib, fw in LIBS:
        with fw.dual_level():
            dual = fw.make_dual(lib.tensor(x, dtype=lib.float32), lib.tensor(t, dtype=lib.float32))
            leaf = fw.make_dual(lib.tensor(x[0], requires_grad=True), lib.tensor(t[0]))
            shown = [repr(dual), repr(dual * 2), repr(dual[0, 1]), str(dual.double()), repr(leaf)]
        reprs.append(shown + [repr(dual)])
    assert [r.replace("ember.", "torch.") for r in reprs[1]] == reprs[0]


@pytest.mark.parametrize("make", [
    lambda lib, a: a.clone(),
    lambda lib, a: a + lib.ones(3),
    lambda lib, a: a.contiguous().clone(),
    lambda lib, a: a * 1,
    lambda lib, a: a.to(lib.float64).to(lib.float32),
], ids=["clone", "add", "contiguous_clone", "mul_one", "casts"])
def test_in_place_ops_on_a_copy_leave_the_source_tangent_as_torch(make):
    """An output whose tangent the op passed through (clone, an addition) owns its tangent: in-place ops on it leave
    the input's tangent alone."""
    results = []
    for lib, fw in LIBS:
        with fw.dual_level():
            a = fw.make_dual(lib.ones(3), lib.full((3,), 2.0))
            b = make(lib, a)
            b.mul_(a).add_(1)
            b.view(3, 1).exp_()
            results.append((tangent_array(fw, a), tangent_array(fw, b)))
    for got, want in zip(results[1], results[0]):
        numpy.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("call", [
    lambda lib, d: d.clone().zero_(),
    lambda lib, d: d.clone().fill_(3.0),
    lambda lib, d: d.clone().copy_(lib.ones(2, 3)),
    lambda lib, d: lib.zeros(2, 3).copy_(d),
    lambda lib, d: d.round(),
    lambda lib, d: d.floor(),
    lambda lib, d: d.sign(),
    lambda lib, d: d.clone().detach_(),
], ids=["zero_", "fill_", "copy_plain", "copy_dual", "round", "floor", "sign", "detach_"])
def test_constant_and_detached_outputs_tangents_as_torch(call):
    """Outputs constant in a dual input have PyTorch's zero tangents (+0.0, printed as torch prints them), and
    detach_ drops the tangent."""
    results = []
    for lib, fw in LIBS:
        with fw.dual_level():
            dual = fw.make_dual(lib.tensor([[1.5, -2.5, 0.3], [-0.7, 2.2, -1.1]]),
                                lib.tensor([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]]))
            tangent = fw.unpack_dual(call(lib, dual)).tangent
            results.append(None if tangent is None else str(tangent).replace("ember.", "torch."))
    assert results[1] == results[0]
