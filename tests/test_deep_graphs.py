"""Deep graphs: a chain of 100,000 ops backpropagates without recursion, and freeing such a graph (by reference
counting or by the cycle collector) does not recurse either."""
import collections
import gc
import math
import sys

import pytest

import ember

DEPTH = 100_000


def _chain(x, depth=DEPTH):
    y = x
    for i in range(depth):
        y = y * 1.0001 if i % 2 else y + 1
    return y


@pytest.fixture
def low_recursion_limit():
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)   # Python's default: a recursive walk of the graph would fail here
    yield
    sys.setrecursionlimit(previous)


def count_backward_calls(monkeypatch, root):
    """Counts, by node name, the backward calls of the op classes at the top of ``root``'s graph."""
    calls = collections.Counter()
    nodes = [root.grad_fn, root.grad_fn.next_functions[0][0]]
    nodes.append(nodes[1].next_functions[0][0])
    for function in {node._function for node in nodes}:
        for kind in ("backward", "array_backward"):   # the engine runs the array form when it has one
            if getattr(function, kind) is None:
                continue

            def counted(ctx, *grads, _backward=getattr(function, kind)):
                calls[ctx.name()] += 1
                return _backward(ctx, *grads)
            monkeypatch.setattr(function, kind, staticmethod(counted))
    return calls


def test_chain_of_100k_ops_backpropagates(low_recursion_limit, monkeypatch):
    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    total = _chain(x).sum()
    calls = count_backward_calls(monkeypatch, total)
    total.backward()
    expected = math.exp(DEPTH // 2 * math.log(1.0001))
    assert x.grad.tolist() == pytest.approx([expected, expected], rel=1e-9)
    # Linear work: every node's backward runs exactly once (sum, then the chain).
    assert calls == {"AddBackward0": DEPTH // 2, "MulBackward0": DEPTH // 2, "SumBackward0": 1}


def test_deep_graph_is_freed_without_recursion_by_refcount(low_recursion_limit):
    x = ember.tensor([1.0], requires_grad=True)
    y = _chain(x, DEPTH // 2)
    del y   # drops the whole chain of nodes at once


def test_deep_graph_in_a_reference_cycle_is_collected(low_recursion_limit):
    x = ember.tensor([1.0], requires_grad=True)
    cycle = [_chain(x, DEPTH // 2)]
    cycle.append(cycle)
    del cycle
    gc.collect()


def test_deep_create_graph_backward(low_recursion_limit):
    x = ember.tensor(1.0, dtype=ember.float64, requires_grad=True)
    y = x
    for _ in range(5_000):
        y = (y * 0.5).sin()
    grad, = ember.autograd.grad(y, x, create_graph=True)
    second, = ember.autograd.grad(grad, x)
    assert math.isfinite(second.item())
