"""utils.swap_tensors against torch.utils.swap_tensors: what moves between the two objects (data, shape, dtype,
version counter, autograd state, hooks, class, Python attributes), the refusals (weak references, different slots,
references autograd holds) and the poisoned gradient path of a swapped leaf."""
import weakref

import numpy
import pytest
import torch

import ember

LIBS = {"torch": torch, "ember": ember}


def _outcome(call):
    try:
        call()
        return "ok"
    except Exception as error:   # the type and message are what is compared
        return f"{type(error).__name__}: {error}"


def _describe(t):
    return (type(t).__name__, tuple(t.shape), str(t.dtype).split(".")[-1], t.detach().tolist(), t.requires_grad,
            t.is_leaf, t._version, None if t.grad is None else t.grad.tolist(), sorted(vars(t)) if hasattr(t, "foo")
            else hasattr(t, "foo"))


def _contents_story(lib):
    a = lib.tensor([1.0, 2.0])
    b = lib.tensor([[3, 4, 5]], dtype=lib.float64)
    a.foo = "a's"
    a.add_(1)
    a.add_(1)
    lib.utils.swap_tensors(a, b)
    out = [_describe(a), _describe(b), b.foo]
    p = lib.nn.Parameter(lib.ones(2))
    p.grad = lib.full((2,), 3.0)
    t = lib.zeros(3)
    lib.utils.swap_tensors(p, t)
    out += [_describe(p), _describe(t)]
    a = lib.ones(2)
    lib.utils.swap_tensors(a, a)
    out.append(_describe(a))
    return out


def test_contents_and_metadata_move_as_in_torch():
    assert _contents_story(ember) == _contents_story(torch)


def test_swapped_tensors_work_as_their_new_contents():
    for lib in LIBS.values():
        a, b = lib.arange(4.0), lib.ones(2, 3)
        memory = b.data_ptr()
        lib.utils.swap_tensors(a, b)
        assert a.data_ptr() == memory
        view = a[0]
        a.mul_(2)
        assert view.tolist() == [2.0, 2.0, 2.0] and b.tolist() == [0.0, 1.0, 2.0, 3.0] and a._version == 1
        w = lib.ones(3, requires_grad=True)
        lib.utils.swap_tensors(w, lib.full((3,), 2.0))
        assert not w.requires_grad
        w.requires_grad_()
        (w * w).sum().backward()
        assert w.grad.tolist() == [4.0, 4.0, 4.0]


def test_module_parameter_swapped_in_place():
    layer = ember.nn.Linear(2, 2)
    weight = layer.weight
    new = ember.nn.Parameter(ember.full((2, 2), 0.5))
    ember.utils.swap_tensors(layer.weight, new)
    assert layer.weight is weight and numpy.all(layer.weight.detach().numpy() == 0.5)
    assert layer(ember.ones(1, 2)).sum().item() == pytest.approx(2.0 + layer.bias.sum().item())


def test_gradient_hooks_follow_the_contents():
    seen = {}
    for name, lib in LIBS.items():
        calls = []
        a = lib.ones(2, requires_grad=True)
        a.register_hook(lambda g: calls.append(("a's hook", g.tolist())))
        b = lib.full((2,), 2.0, requires_grad=True)
        lib.utils.swap_tensors(a, b)
        (b * 3).sum().backward()
        (a * 5).sum().backward()
        seen[name] = calls, a.grad.tolist(), b.grad.tolist()
    assert seen["ember"] == seen["torch"]


def _refusal_story(lib):
    out = []
    a, b = lib.ones(2), lib.ones(2)
    ref = weakref.ref(a)
    out += [_outcome(lambda: lib.utils.swap_tensors(a, b)), _outcome(lambda: lib.utils.swap_tensors(b, a))]
    del ref

    class Slotted(lib.Tensor):
        __slots__ = ("x",)

    out.append(_outcome(lambda: lib.utils.swap_tensors(Slotted(lib.ones(2)), lib.ones(2))))
    out.append(_outcome(lambda: lib.utils.swap_tensors(lib.ones(2), 3)))
    out.append(_outcome(lambda: lib.utils.swap_tensors([1], lib.ones(2))))
    return out


def test_refusals_match_torch():
    assert _refusal_story(ember) == _refusal_story(torch)


def _state(lib, case):
    """(t1, t2, the objects that must stay alive, a backward to try afterwards or None) for one autograd state."""
    fresh = lambda **kw: lib.ones(4, **kw)   # noqa: E731
    if case == "plain":
        return fresh(), fresh(), (), None
    if case == "base of a live view":
        a = fresh()
        return a, fresh(), (a[:2],), None
    if case == "base of a live view, requires grad":
        a = fresh(requires_grad=True)
        return a, fresh(), (a[:2],), None
    if case == "base of a view made without grad":
        a = fresh(requires_grad=True)
        with lib.no_grad():
            view = a[:2]
        return a, fresh(), (view,), None
    if case == "leaf in a live graph":
        a = fresh(requires_grad=True)
        y = a + 1
        return a, fresh(), (y,), lambda: y.sum().backward()
    if case == "leaf in a live graph, as t2":
        a = fresh(requires_grad=True)
        y = a + 1
        return fresh(), a, (y,), lambda: y.sum().backward()
    if case == "leaf saved twice":
        a = fresh(requires_grad=True)
        return a, fresh(), (a * a,), None
    if case == "op saves its output":
        a = fresh(requires_grad=True)
        y = a.exp()
        return a, fresh(), (y,), lambda: y.sum().backward()
    if case == "graph after its backward":
        a = fresh(requires_grad=True)
        y = (a * a).sum()
        y.backward()
        return a, fresh(), (y,), lambda: y.backward()
    if case == "saved, not requiring grad":
        x, w = fresh(), fresh(requires_grad=True)
        return x, fresh(), (x * w,), None
    if case == "a view of it saved":
        x, w = fresh(), fresh(requires_grad=True)
        return x, fresh(), (lib.matmul(x.view(2, 2), w.view(2, 2)),), None
    if case == "non-leaf":
        a = fresh(requires_grad=True)
        c = a * 2
        return c, fresh(), (a,), lambda: c.sum().backward()
    if case == "detached copy alive":
        a = fresh()
        return a, fresh(), (a.detach(),), None
    if case == "graph gone":
        a = fresh(requires_grad=True)
        (a + 1).sum().backward()
        return a, fresh(), (), None
    if case == "another tensor's grad":
        p = fresh(requires_grad=True)
        p.grad = fresh()
        return p.grad, fresh(), (p,), None
    if case == "both in live graphs":
        a, b = fresh(requires_grad=True), fresh(requires_grad=True)
        y, z = a + 1, b * 2
        return a, b, (y, z), lambda: (y.sum().backward(), z.sum().backward())
    raise AssertionError(case)


CASES = ["plain", "base of a live view", "base of a live view, requires grad", "base of a view made without grad",
         "leaf in a live graph", "leaf in a live graph, as t2", "leaf saved twice", "op saves its output",
         "graph after its backward", "saved, not requiring grad", "a view of it saved", "non-leaf",
         "detached copy alive", "graph gone", "another tensor's grad", "both in live graphs"]


@pytest.mark.parametrize("case", CASES)
def test_autograd_references_as_torch_counts_them(case):
    results = {}
    for name, lib in LIBS.items():
        t1, t2, alive, backward = _state(lib, case)
        results[name] = [_outcome(lambda: lib.utils.swap_tensors(t1, t2)),
                         None if backward is None else _outcome(backward)]
        del alive
    assert results["ember"] == results["torch"]


def test_poisoned_backward_message():
    a = ember.ones(2, requires_grad=True)
    y = a * 3
    ember.utils.swap_tensors(a, ember.zeros(2))
    with pytest.raises(RuntimeError, match="^Trying to execute AccumulateGrad node that was poisoned by swap_tensors"):
        y.sum().backward()
