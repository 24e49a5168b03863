"""ModuleTracker and the global module forward hooks it stands on, side by side with PyTorch's."""
import importlib

import pytest
import torch

import ember


def _tracker(lib):
    return importlib.import_module(lib.__name__ + ".utils.module_tracker").ModuleTracker


def _record(lib, build, inputs, backward=True):
    """(event, tag, sorted parents, is_bw) seen from inside forward and backward of probes placed in the model."""
    log = []
    tracker = _tracker(lib)()

    class Probe(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, tag):
            ctx.tag = tag
            log.append(("fw", tag, sorted(tracker.parents), tracker.is_bw))
            return x.clone()

        @staticmethod
        def backward(ctx, grad):
            log.append(("bw", ctx.tag, sorted(tracker.parents), tracker.is_bw))
            return grad, None

    lib.manual_seed(0)
    model = build(lib.nn, Probe.apply)
    xs = [lib.randn(*shape, requires_grad=True) for shape in inputs]
    with tracker:
        out = model(*xs)
        log.append(("after forward", sorted(tracker.parents), tracker.is_bw))
        if backward:
            outs = out if isinstance(out, tuple) else (out,)
            sum(o.sum() for o in outs).backward()
            log.append(("after backward", sorted(tracker.parents), tracker.is_bw))
    log.append(("after exit", sorted(tracker.parents), tracker.is_bw))
    return log


def _nested(nn, probe):
    class Leaf(nn.Module):
        def __init__(self, tag):
            super().__init__()
            self.tag, self.lin = tag, nn.Linear(4, 4)

        def forward(self, x):
            return probe(self.lin(probe(x, self.tag + "<")), self.tag + ">")

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.act = Leaf("a"), Leaf("b"), nn.ReLU()

        def forward(self, x):
            return self.b(self.act(self.a(x))) + x

    # Dropout(0.0) hands back its input: PyTorch's tracker leaves it entered in backward, and so does ember's
    return nn.Sequential(Block(), nn.Dropout(0.0), Block())


def _shared_and_tuples(nn, probe):
    class Split(nn.Module):
        def forward(self, x):
            return probe(x[:, :2], "left"), probe(x[:, 2:], "right")

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.split, self.shared = Split(), nn.Linear(2, 2)

        def forward(self, x, y):
            left, right = self.split(x * y)
            return probe(self.shared(left), "l"), probe(self.shared(right), "r")

    return Net()


@pytest.mark.parametrize("build, inputs, backward", [
    (_nested, [(2, 4)], False), (_nested, [(2, 4)], True), (_shared_and_tuples, [(3, 4), (3, 4)], False),
], ids=["nested-forward", "nested-forward+backward", "shared-tuples-forward"])
def test_parents_and_is_bw_match_torch(build, inputs, backward):
    # the shared model's backward has two branches ready at once: PyTorch's engine runs the newer node first,
    # ember's the other, so what the probes see there depends on the engine's order, not on the tracker
    expected = _record(torch, build, inputs, backward)
    assert _record(ember, build, inputs, backward) == expected
    assert len(expected) > 4


def test_parents_never_empty_and_names_are_qualified():
    seen = []
    model = ember.nn.Sequential(ember.nn.Linear(2, 3), ember.nn.Sequential(ember.nn.ReLU()))
    with _tracker(ember)() as tracker:
        hook = ember.nn.modules.module.register_module_forward_pre_hook(lambda m, a: seen.append(set(tracker.parents)))
        model(ember.randn(1, 2))
        hook.remove()
    assert seen == [{"Global", "Sequential"}, {"Global", "Sequential", "Sequential.0"},
                    {"Global", "Sequential", "Sequential.1"},
                    {"Global", "Sequential", "Sequential.1", "Sequential.1.0"}]
    assert tracker.parents == {"Global"} and not tracker.is_bw


def _global_hook_calls(lib):
    mm = lib.nn.modules.module
    calls = []

    class Twice(lib.nn.Module):
        def forward(self, x, *, scale=1.0):
            return x * 2 * scale

    model = Twice()
    model.register_forward_pre_hook(lambda m, args: calls.append("local pre"))
    model.register_forward_hook(lambda m, args, out: calls.append("local post"))
    handles = [
        mm.register_module_forward_pre_hook(lambda m, args: (calls.append("global pre"), (args[0] + 1,))[1]),
        mm.register_module_forward_hook(lambda m, args, kwargs, out: (calls.append(("global post", kwargs)),
                                                                      out * 10)[1], with_kwargs=True),
    ]
    try:
        out = model(lib.ones(2), scale=0.5)
    finally:
        for handle in handles:
            handle.remove()
    calls.append(model(lib.ones(2)).tolist())
    return calls, out.tolist()


def test_global_forward_hooks_match_torch():
    assert _global_hook_calls(ember) == _global_hook_calls(torch)


def _always_called(lib):
    calls = []

    class Broken(lib.nn.Module):
        def forward(self, x):
            raise ValueError("forward failed")

    mm = lib.nn.modules.module
    handles = [mm.register_module_forward_hook(lambda m, args, out: calls.append(("always", out)), always_call=True),
               mm.register_module_forward_hook(lambda m, args, out: calls.append("not always"))]
    try:
        with pytest.raises(ValueError, match="forward failed"):
            Broken()(lib.ones(1))
    finally:
        for handle in handles:
            handle.remove()
    return calls


def test_global_forward_hook_always_call_runs_when_forward_raises():
    assert _always_called(ember) == _always_called(torch) == [("always", None)]


def test_global_hooks_removed_leave_the_fast_path():
    from ember.nn.modules import module
    handle = module.register_module_forward_hook(lambda m, args, out: None, always_call=True, with_kwargs=True)
    handle.remove()
    assert not module._global_forward_hooks and not module._global_forward_hooks_always_called
    assert not module._global_forward_hooks_with_kwargs
