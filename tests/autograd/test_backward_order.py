"""The engine runs ready nodes in PyTorch's order (latest recorded first), so backward hooks fire, and gradients
meeting at a tensor add up, in the order PyTorch's do."""
import numpy
import torch

import ember


def _hook_order(library, build):
    order = []
    x = library.tensor(numpy.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    outputs = build(library, x)
    for name, tensor in outputs.items():
        tensor.register_hook(lambda g, name=name: order.append(name))
    total = None
    for name in sorted(outputs):   # summed in a fixed order, different from the recording order
        total = outputs[name].sum() if total is None else total + outputs[name].sum()
    total.backward()
    return order


def _branches(library, x):
    a = x.sin()
    b = x * 2
    c = (a + b).exp()
    d = b.cos()
    e = a * d
    return {"c": c, "e": e, "d": d, "a": a, "b": b}


def _residual(library, x):
    branch = (x * 3).tanh()
    skip = x.exp()
    out = skip + branch   # the later-recorded operand on the right
    deeper = (out * out).sigmoid()
    return {"branch": branch, "skip": skip, "out": out, "deeper": deeper}


def test_hooks_fire_in_pytorchs_order():
    for build in (_branches, _residual):
        assert _hook_order(ember, build) == _hook_order(torch, build), build.__name__


def _recorder(library, order):
    class Record(library.autograd.Function):
        @staticmethod
        def forward(ctx, x, name):
            ctx.name = name
            return x.clone()

        @staticmethod
        def backward(ctx, grad):
            order.append(ctx.name)
            return grad, None
    return Record.apply


def _node_order(library):
    order = []
    record = _recorder(library, order)
    x = library.ones(3, requires_grad=True)
    a = record(x * 2, "a")            # recorded first
    b = record(x.sin(), "b")
    c = record(a * b, "c")
    d = record(x.exp(), "d")          # recorded last
    (d + record(b + a, "sum") + c).sum().backward()   # operands in an order unlike their recording
    return order


def test_nodes_run_in_pytorchs_order():
    assert _node_order(ember) == _node_order(torch)


def test_gradients_meeting_at_a_leaf_add_up_in_pytorchs_order():
    scales = [1.1, 0.3, -0.7, 2.9, 1e-3, 7.7e5, -3.3e-4]   # float32 sums of these differ with their order
    values = numpy.linspace(-2, 2, 16).astype(numpy.float32)
    grads = []
    for library in (ember, torch):
        x = library.tensor(values, requires_grad=True)
        parts = [x * scale for scale in scales]
        total = parts[3] + parts[0] + parts[6] + parts[4] + parts[1] + parts[5] + parts[2]
        total.sum().backward()
        grads.append(x.grad.numpy())
    numpy.testing.assert_array_equal(grads[0], grads[1])
