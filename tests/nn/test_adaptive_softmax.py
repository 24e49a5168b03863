"""nn.AdaptiveLogSoftmaxWithLoss against PyTorch's with the same weights: outputs, loss and gradients for targets in
the head and in each cluster, one unbatched example, log_prob, predict's three paths, and the errors."""
import numpy
import pytest
import torch

import ember

rng = numpy.random.default_rng(0)


def pair(in_features=64, n_classes=30, cutoffs=(5, 12, 20), **kwargs):
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, list(cutoffs), **kwargs).double()
    ours = ember.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, list(cutoffs), **kwargs).double()
    ours.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def close(ours, theirs):
    numpy.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kwargs", [{}, {"div_value": 2.0, "head_bias": True}])
def test_forward_loss_and_gradients_match_torch(kwargs):
    ours, theirs = pair(**kwargs)
    x = rng.standard_normal((12, 64))
    target = numpy.array([0, 4, 5, 11, 12, 19, 20, 29, 3, 25, 7, 14])   # every cluster, both ends of each
    results = []
    for lib, module in ((ember, ours), (torch, theirs)):
        inp = lib.tensor(x, requires_grad=True)
        output, loss = module(inp, lib.tensor(target))
        (loss + output[::2].sum()).backward()
        results.append((output, loss, inp.grad, [p.grad for p in module.parameters()]))
    (o1, l1, g1, p1), (o2, l2, g2, p2) = results
    close(o1, o2), close(l1, l2), close(g1, g2)
    for a, b in zip(p1, p2):
        close(a, b)
    assert type(ours(ember.tensor(x), ember.tensor(target))).__name__ == "_ASMoutput"


def test_unbatched_log_prob_and_predict_match_torch():
    ours, theirs = pair()
    x = rng.standard_normal((9, 64))
    o, t = ours(ember.tensor(x[0]), ember.tensor(23)), theirs(torch.tensor(x[0]), torch.tensor(23))
    assert tuple(o.output.shape) == tuple(t.output.shape) == ()
    close(o.output, t.output), close(o.loss, t.loss)
    close(ours.log_prob(ember.tensor(x)), theirs.log_prob(torch.tensor(x)))
    assert numpy.allclose(numpy.exp(ours.log_prob(ember.tensor(x)).detach().numpy()).sum(1), 1.0)
    with torch.no_grad():   # predict's three paths: all rows in the shortlist, none, some
        for rows_in_tail in (0, 9, 4):
            theirs.head.weight[5:] = -50.0 if rows_in_tail == 0 else 0.0
            if rows_in_tail == 9:
                theirs.head.weight[:5] = -50.0
            ours.load_state_dict({k: ember.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
            inputs = numpy.abs(x) if rows_in_tail != 4 else x
            expected = theirs.predict(torch.tensor(inputs))
            assert ours.predict(ember.tensor(inputs)).tolist() == expected.tolist()
            assert ours.predict(ember.tensor(inputs)).tolist() == ours.log_prob(
                ember.tensor(inputs)).argmax(1).tolist()


@pytest.mark.parametrize("make", [
    lambda nn: nn.AdaptiveLogSoftmaxWithLoss(8, 10, []),
    lambda nn: nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 3]),
    lambda nn: nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 10]),
    lambda nn: nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 3]),
])
def test_bad_cutoffs_raise_like_torch(make):
    with pytest.raises(ValueError) as theirs:
        make(torch.nn)
    with pytest.raises(ValueError, match=str(theirs.value)):
        make(ember.nn)


@pytest.mark.parametrize("shapes", [((4, 64), (3,)), ((4, 2, 64), (4,)), ((64,), (2,)), ((4, 64), (4, 1)),
                                    ((4, 64), (4,), 30)])
def test_bad_inputs_raise_like_torch(shapes):
    ours, theirs = pair()
    x_shape, t_shape = shapes[:2]
    x = rng.standard_normal(x_shape)
    target = numpy.full(t_shape, shapes[2] if len(shapes) > 2 else 1)
    with pytest.raises(RuntimeError) as expected:
        theirs(torch.tensor(x), torch.tensor(target))
    with pytest.raises(RuntimeError) as got:
        ours(ember.tensor(x), ember.tensor(target))
    assert str(got.value) == str(expected.value).replace("torch.Size", "ember.Size")
