"""Compiled vs eager ember vs PyTorch: training steps of an MLP, a CNN with BatchNorm and Dropout, an LSTM and a
Transformer encoder layer give bit-equal outputs, gradients, weights and running statistics to eager ember (the same
kernels run), and match PyTorch."""
import copy

import numpy
import pytest
import torch

import ember


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def cnn(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn, self.drop = nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Dropout(0.3)
            self.fc = nn.Linear(4 * 13 * 13, 10)

        def forward(self, x):
            x = nn.functional.max_pool2d(self.bn(self.conv(x)).relu(), 2)
            return self.fc(self.drop(x).flatten(1))
    return Net()


def lstm(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.fc = nn.LSTM(8, 16, 2, batch_first=True), nn.Linear(16, 10)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.fc(out[:, -1])
    return Net()


def transformer(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.1, batch_first=True)
            self.fc = nn.Linear(16, 10)

        def forward(self, x):
            return self.fc(self.layer(x).mean(1))
    return Net()


CASES = {"mlp": (mlp, (6, 1, 28, 28)), "cnn": (cnn, (6, 1, 28, 28)), "lstm": (lstm, (6, 5, 8)),
         "transformer": (transformer, (6, 5, 16))}


def _steps(lib, model, x, y, steps, seeded):
    optimizer = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    outputs = []
    for i in range(steps):
        if seeded:
            lib.manual_seed(100 + i)
        optimizer.zero_grad()
        out = model(x)
        lib.nn.functional.cross_entropy(out, y).backward()
        outputs.append(out.detach().numpy().copy())
        grads = [p.grad.numpy().copy() for p in model.parameters()]
        optimizer.step()
    state = {k.removeprefix("_orig_mod."): v.numpy().copy() for k, v in model.state_dict().items()}
    return outputs, grads, state


@pytest.mark.parametrize("name", list(CASES))
def test_compiled_training_is_eager_bit_for_bit_and_matches_torch(name):
    build, shape = CASES[name]
    rng = numpy.random.default_rng(0)
    x, y = rng.standard_normal(shape, dtype=numpy.float32), rng.integers(0, 10, shape[0])
    ember.manual_seed(0)
    model = build(ember)
    eager = copy.deepcopy(model)
    compiled = ember.compile(model)
    got = _steps(ember, compiled, ember.from_numpy(x), ember.from_numpy(y), 4, True)
    want = _steps(ember, eager, ember.from_numpy(x), ember.from_numpy(y), 4, True)
    assert compiled._ember_compiled.reasons() == []   # captured, not run eagerly
    trained, = [e for e in compiled._ember_compiled.cache.values() if e.program.grad_in]
    assert trained.plan is not None   # the backward runs the forward's own nodes (_array_backward)
    for a, b in zip(got[0] + got[1], want[0] + want[1]):
        assert numpy.array_equal(a, b)
    assert got[2].keys() == want[2].keys()
    for k in got[2]:
        assert numpy.array_equal(got[2][k], want[2][k]), k
    compiled.eval()
    with ember.no_grad():
        assert numpy.array_equal(compiled(ember.from_numpy(x)).numpy(), eager.eval()(ember.from_numpy(x)).numpy())

    reference = build(torch)   # PyTorch eager on the same weights (dropout draws PyTorch's stream too)
    ember.manual_seed(0)
    start = build(ember)
    reference.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in start.state_dict().items()})
    if name == "transformer":   # its attention draws dropout masks in another order than PyTorch's: compare eval
        compiled.load_state_dict({"_orig_mod." + k: v for k, v in start.state_dict().items()})
        with ember.no_grad(), torch.no_grad():
            numpy.testing.assert_allclose(compiled(ember.from_numpy(x)).numpy(),
                                          reference.eval()(torch.from_numpy(x)).numpy(), rtol=1e-4, atol=1e-5)
        return
    theirs = _steps(torch, reference, torch.from_numpy(x), torch.from_numpy(y), 4, True)
    for a, b in zip(got[0] + got[1], theirs[0] + theirs[1]):
        numpy.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)


def test_function_with_dropout_follows_the_seeded_stream():
    def f(x, w):
        return ember.nn.functional.dropout(x @ w, 0.5).tanh().sum(1)

    compiled = ember.compile(f)
    x, w = ember.randn(5, 7), ember.randn(7, 3, requires_grad=True)
    for seed in range(3):
        ember.manual_seed(seed)
        a = compiled(x, w)
        a.sum().backward()
        ga, w.grad = w.grad, None
        ember.manual_seed(seed)
        b = f(x, w)
        b.sum().backward()
        assert numpy.array_equal(a.detach().numpy(), b.detach().numpy())
        assert numpy.array_equal(ga.numpy(), w.grad.numpy())
        w.grad = None
        ember.manual_seed(seed)
        c = f(x, w)
        torch.manual_seed(seed)
        d = torch.nn.functional.dropout(torch.from_numpy(x.numpy()) @ torch.from_numpy(w.detach().numpy()), 0.5)
        numpy.testing.assert_allclose(c.detach().numpy(), d.tanh().sum(1).numpy(), rtol=1e-6, atol=1e-6)
    assert compiled._ember_compiled.reasons() == []


def test_in_place_relu_and_residual_add():
    nn = ember.nn

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.relu = nn.Linear(6, 6), nn.Linear(6, 6), nn.ReLU(inplace=True)

        def forward(self, x):
            out = self.b(self.relu(self.a(x)))
            out += x
            return self.relu(out).sum(1)

    compiled = _compiled_matches_eager(Residual, (5, 6))
    entry, = compiled._ember_compiled.cache.values()
    assert entry.plan is not None   # each write moves its target to the node of the value written, as eagerly


def _compiled_matches_eager(build, shape):
    """Three training steps' outputs and gradients of ``build()`` compiled and eager, bit-equal; the compiled."""
    ember.manual_seed(0)
    model = build()
    eager = copy.deepcopy(model)
    compiled = ember.compile(model)
    for _ in range(3):
        x = ember.randn(*shape)
        results = []
        for m in (compiled, eager):
            m.zero_grad()
            out = m(x)
            out.sum().backward()
            results.append([out.detach().numpy()] + [p.grad.numpy() for p in m.parameters()])
        for got, want in zip(*results):
            assert numpy.array_equal(got, want)
    return compiled


def test_an_in_place_write_into_a_saved_tensor_keeps_the_recorded_backward():
    nn = ember.nn

    class Square(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 4)

        def forward(self, x):
            h = self.a(x)
            h.mul_(h)   # the product's node saved h, which the write then changes: eager saves a copy first
            return h.sum(1)

    compiled = _compiled_matches_eager(Square, (3, 4))
    entry, = compiled._ember_compiled.cache.values()
    assert entry.plan is None   # the recorded backward, or a replay through autograd


def _detaching(lib, x, w, v):
    """Gradients stop at detach(), .data and no_grad, and a no_grad output takes none."""
    with lib.no_grad():
        scale = w * 3
    loss = (x * w.detach()).sum() + (x * w.data).pow(2).sum() + (x * scale).sum() + (v * w).sum()
    return loss, scale


@pytest.mark.parametrize("hooked", [False, True])
def test_replay_through_autograd_stops_gradients_where_eager_does(hooked):
    # nll_loss with class weights keeps its backward out of the array program (a replay through autograd); a
    # gradient hook on an input does too
    def function(lib, x, t, w, v):
        loss, scale = _detaching(lib, x, w, v)
        return loss + lib.nn.functional.nll_loss(x, t, weight=w.detach()), scale

    compiled = ember.compile(lambda *args: function(ember, *args))
    generator = numpy.random.default_rng(0)
    for step in range(3):
        arrays = [generator.standard_normal(s).astype(numpy.float32) for s in ((5, 4), (4,), (4,))]
        target = numpy.array([0, 3, 1, 2, 3])
        leaves = {}
        for lib, run in ((ember, compiled), (torch, lambda *args: function(torch, *args))):
            x, w, v = (lib.tensor(a, requires_grad=True) for a in arrays)
            if hooked:
                v.register_hook(lambda g: g * 2)
            loss, scale = run(x, lib.tensor(target), w, v)
            assert not scale.requires_grad
            loss.backward()
            leaves[lib.__name__] = (loss.item(), x.grad.numpy(), w.grad.numpy(), v.grad.numpy())
        for got, want in zip(leaves["ember"], leaves["torch"]):
            numpy.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    entry, = compiled._ember_compiled.cache.values()
    assert entry.tape


def test_several_differentiable_outputs():
    def function(lib, x):
        return [x.sin(), x.cos() * 2, (x * 3).sum()]

    compiled = ember.compile(lambda x: function(ember, x))
    generator = numpy.random.default_rng(1)
    for _ in range(3):
        array = generator.standard_normal((2, 4)).astype(numpy.float32)
        grads = []
        for lib, run in ((ember, compiled), (torch, lambda x: function(torch, x))):
            x = lib.tensor(array, requires_grad=True)
            outputs = run(x)
            sum(o.sum() * (k + 1) for k, o in enumerate(outputs)).backward()
            grads.append(x.grad.numpy())
        numpy.testing.assert_allclose(*grads, rtol=1e-5, atol=1e-6)


def test_tensor_keyword_arguments():
    def function(lib, x):
        shifted = lib.bitwise_left_shift(x, x.abs(), out=lib.empty(3, dtype=lib.int64))
        return shifted * 2 + lib.nn.functional.linear(x.float(), weight=x.float()[None].exp()).long()

    compiled = ember.compile(lambda x: function(ember, x))
    for values in ([1, -2, 3], [4, 0, -1], [2, 2, 5]):
        got = compiled(ember.tensor(values, dtype=ember.int8)).numpy()
        numpy.testing.assert_array_equal(got, function(torch, torch.tensor(values, dtype=torch.int8)).numpy())


def test_named_tuple_outputs_and_inputs_follow_each_call():
    def function(lib, x, pair=None):
        top = x.topk(2, 1)
        return top, x.max(0), x if pair is None else pair.values * 2 + pair.indices

    for with_pair in (False, True):
        compiled = ember.compile(lambda *args: function(ember, *args))
        generator = numpy.random.default_rng(3)
        for _ in range(3):
            array = generator.permutation(12).reshape(3, 4).astype(numpy.float32)
            results = []
            for lib, run in ((ember, compiled), (torch, lambda *args: function(torch, *args))):
                x = lib.tensor(array)
                results.append(run(x, x.sort(1)) if with_pair else run(x))
            got, want = results
            assert type(got[0]).__name__ == "topk" and got[1]._fields == ("values", "indices")
            for g, w in zip((got[0].values, got[0].indices, got[1].values, got[1].indices, got[2]),
                            (want[0].values, want[0].indices, want[1].values, want[1].indices, want[2])):
                numpy.testing.assert_array_equal(g.numpy(), w.numpy())
        assert len(compiled._ember_compiled.cache) == 1   # a named-tuple argument is guarded field by field


def test_an_output_returned_twice_gets_its_whole_gradient():
    def function(lib, x):
        y = x * 2
        return y, y, y.detach()

    compiled = ember.compile(lambda x: function(ember, x))
    for _ in range(3):
        grads = []
        for lib, run in ((ember, compiled), (torch, lambda x: function(torch, x))):
            x = lib.ones(3, requires_grad=True)
            a, b, c = run(x)
            assert a is b and not c.requires_grad
            (a.sum() + 2 * b.sum()).backward()
            grads.append(x.grad.numpy())
        numpy.testing.assert_array_equal(*grads)


def test_one_gradient_array_for_two_inputs_gives_each_its_own_grad():
    # the compiled node hands the engine arrays: Add's backward passes one array to both inputs, which must not
    # share it as .grad (an in-place change of one would change the other), as eager's and PyTorch's do not
    compiled = ember.compile(lambda a, b: (a + b) * 2)
    for _ in range(3):
        grads = []
        for lib, run in ((ember, compiled), (torch, lambda a, b: (a + b) * 2)):
            a, b = lib.ones(3, requires_grad=True), lib.ones(3, requires_grad=True)
            run(a, b).sum().backward()
            a.grad.add_(1)
            grads.append((a.grad.numpy().copy(), b.grad.numpy().copy()))
        numpy.testing.assert_array_equal(grads[0], grads[1])
    entry, = compiled._ember_compiled.cache.values()
    assert entry.plan is not None


def _branches(lib, x, w, b):
    """A node of three outputs, one unused (its gradient zeros); a parameter reached along three paths (the order
    its gradients are summed in shows in the last bits); a broadcast bias (its gradient summed back)."""
    first, second, _ = x.unbind(1)
    hidden = first * w + b
    return (hidden * w).sum() + (second * w).exp().sum() + (w * w * w).sum()


def test_backward_from_the_forward_nodes_is_the_engines():
    rng = numpy.random.default_rng(3)
    x, w, b = rng.standard_normal((4, 3, 5)), rng.standard_normal(5), rng.standard_normal(1)
    compiled = ember.compile(lambda *a: _branches(ember, *a))
    for _ in range(3):
        results = []
        for run in (compiled, lambda *a: _branches(ember, *a)):
            inputs = [ember.tensor(a, requires_grad=True) for a in (x, w, b)]
            out = run(*inputs)
            out.backward()
            results.append([out.detach().numpy()] + [t.grad.numpy() for t in inputs])
        for got, want in zip(*results):
            numpy.testing.assert_array_equal(got, want)
    entry, = compiled._ember_compiled.cache.values()
    assert entry.plan is not None
    inputs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    _branches(torch, *inputs).backward()
    for got, t in zip(results[0][1:], inputs):
        numpy.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-12)


def test_an_embedding_is_captured_through_its_rows():
    # embedding checks its indices on the arrays (inside its primitive), so no Python read of them makes the
    # composite opaque: its rows are a primitive of the capture and the backward runs the forward's nodes
    nn = ember.nn
    ember.manual_seed(0)
    model = nn.Sequential(nn.Embedding(20, 6), nn.Flatten(), nn.Linear(18, 4))
    eager = copy.deepcopy(model)
    compiled = ember.compile(model)
    for seed in range(3):
        tokens = ember.from_numpy(numpy.random.default_rng(seed).integers(0, 20, (5, 3)))
        results = []
        for m in (compiled, eager):
            m.zero_grad()
            out = m(tokens)
            out.square().sum().backward()
            results.append([out.detach().numpy()] + [p.grad.numpy() for p in m.parameters()])
        for got, want in zip(*results):
            assert numpy.array_equal(got, want)
    entry, = compiled._ember_compiled.cache.values()
    assert entry.plan is not None
    with pytest.raises(IndexError, match="index out of range in self"):
        compiled(ember.tensor([[0, 1, 20]] * 5))
