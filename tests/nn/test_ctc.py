"""ctc_loss and nn.CTCLoss against torch: losses and gradients w.r.t. log_probs for every reduction, both target
layouts, lengths as tuples or tensors, impossible alignments with and without zero_infinity, and errors."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check, check_error


def _log_probs(shape, dtype=numpy.float64, seed=0):
    logits = numpy.random.default_rng(seed).standard_normal(shape)
    return (logits - numpy.log(numpy.exp(logits).sum(-1, keepdims=True))).astype(dtype)


def _targets(target_lengths, classes, blank=0, seed=1):
    """Padded (N, max length) targets that avoid ``blank``, with repeats likely (small ``classes``)."""
    labels = numpy.random.default_rng(seed).integers(0, classes - 1, (len(target_lengths), max(target_lengths)))
    return labels + (labels >= blank)


def _concatenated(padded, target_lengths):
    return numpy.concatenate([row[:n] for row, n in zip(padded, target_lengths)])


def _ctc(**kwargs):
    return lambda lib, lp, targets, il, tl: lib.nn.functional.ctc_loss(lp, targets, il, tl, **kwargs)


# input 8 long; target 3 has "1 1 1 1 1" (needs 9 steps with blanks): impossible; the last sample has no target
TARGET_LENGTHS = (3, 5, 2, 5, 0)
INPUT_LENGTHS = (8, 6, 4, 8, 3)


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
@pytest.mark.parametrize("lengths_as", ["tuple", "tensor"])
def test_ctc_loss_matches_torch(reduction, zero_infinity, layout, lengths_as):
    targets = _targets(TARGET_LENGTHS, 4)
    targets[3] = 1
    if layout == "concatenated":
        targets = _concatenated(targets, TARGET_LENGTHS)
    il, tl = INPUT_LENGTHS, TARGET_LENGTHS
    if lengths_as == "tensor":
        il, tl = numpy.array(il), numpy.array(tl, dtype=numpy.int32)
    check(_ctc(reduction=reduction, zero_infinity=zero_infinity), _log_probs((8, 5, 4)), targets, il, tl)


@pytest.mark.parametrize("blank", [0, 3, 6])
def test_ctc_loss_float32_longer_sequences_and_blank_index(blank):
    target_lengths = (6, 1, 10, 4)
    targets = _targets(target_lengths, 7, blank)
    check(_ctc(blank=blank), _log_probs((30, 4, 7), numpy.float32), targets, (30, 12, 25, 30), target_lengths,
          rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("lengths_as", ["tuple", "tensor"])
def test_unbatched_ctc_loss(reduction, lengths_as):
    il, tl = ((7,), (3,)) if lengths_as == "tuple" else (numpy.array(7), numpy.array(3))
    check(_ctc(reduction=reduction), _log_probs((7, 5)), numpy.array([1, 4, 4]), il, tl)


def test_zero_lengths():
    check(_ctc(reduction="none"), _log_probs((4, 3, 3)), numpy.array([[1, 2], [1, 1], [2, 2]]), (4, 0, 1),
          (2, 0, 1))


def test_ctc_loss_module_matches_torch():
    targets = _targets(TARGET_LENGTHS, 4)
    check(lambda lib, lp, t: lib.nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)(lp, t, INPUT_LENGTHS,
                                                                                          TARGET_LENGTHS),
          _log_probs((8, 5, 4)), targets)


def test_gradient_of_log_softmax_logits_passes_gradcheck():
    logits = ember.tensor(numpy.random.default_rng(2).standard_normal((5, 2, 4)), requires_grad=True)
    targets = ember.tensor([[1, 2, 2], [3, 1, 0]])
    assert ember.autograd.gradcheck(
        lambda x: ember.nn.functional.ctc_loss(x.log_softmax(2), targets, (5, 4), (3, 2), reduction="none"),
        (logits,))


def test_double_backward_is_refused_as_in_torch():
    for lib in (torch, ember):
        lp = lib.tensor(_log_probs((4, 1, 3)), requires_grad=True)
        loss = lib.nn.functional.ctc_loss(lp, lib.tensor([[1, 2]]), (4,), (2,))
        grad, = lib.autograd.grad(loss, lp, create_graph=True)
        with pytest.raises(RuntimeError, match="derivative for aten::_ctc_loss_backward is not implemented"):
            grad.sum().backward()


def test_ctc_loss_errors_match_torch():
    lp, targets = _log_probs((6, 3, 4)), numpy.array([[1, 2, 2], [1, 1, 0], [3, 1, 2]])
    il, tl = (6, 5, 2), (3, 2, 3)
    check_error(_ctc(), lp, targets, (7, 5, 2), tl, match="at most 6, but got value 7")
    check_error(_ctc(), lp, targets, (6, 5), tl, match="input_lengths must be of size batch_size")
    check_error(_ctc(), lp, targets, il, (3, 2), match="target_lengths must be of size batch_size")
    check_error(_ctc(), lp, targets, il, (4, 2, 3), match="size at least 4 at dimension 1, but got size 3")
    check_error(_ctc(), lp, targets, il, (3, -1, 3), match="at least 0, but got value -1")
    check_error(_ctc(), lp, targets[:2], il, tl, match="size 3 at dimension 0, but got size 2")
    check_error(_ctc(), lp, targets.reshape(-1)[:5], il, tl, match="size 8 at dimension 0, but got size 5")
    check_error(_ctc(blank=4), lp, targets, il, tl, match="blank must be in label range")
    check_error(_ctc(reduction="avg"), lp, targets, il, tl, match="avg is not a valid value for reduction")
    check_error(_ctc(), lp, targets, numpy.array([6.0, 5.0, 2.0]), numpy.array(tl),
                match="input_lengths must be integral")
    check_error(_ctc(), lp, targets, numpy.array(il), tl, match="both be Tensors or both tuples")
    check_error(_ctc(), lp.astype(numpy.int32), targets, il, tl, match="not implemented for 'Int'")


def test_traced_ctc_loss_replays_other_targets_and_lengths():
    def loss(lib):
        return lambda lp, targets, il, tl: lib.nn.functional.ctc_loss(lp, targets, il, tl)
    lp = _log_probs((8, 3, 5), numpy.float32)
    traced = ember.jit.trace(loss(ember), (ember.from_numpy(lp), ember.from_numpy(_targets((3, 2, 4), 5)),
                                           ember.tensor([8, 7, 8]), ember.tensor([3, 2, 4])))
    for target_lengths, input_lengths in (((1, 4, 2), (5, 8, 6)), ((4, 4, 0), (8, 8, 2))):
        targets = _targets(target_lengths, 5, seed=sum(target_lengths))
        x, tx = ember.from_numpy(lp).requires_grad_(), torch.from_numpy(lp).requires_grad_()
        got = traced(x, ember.from_numpy(targets), ember.tensor(input_lengths), ember.tensor(target_lengths))
        want = loss(torch)(tx, torch.from_numpy(targets), torch.tensor(input_lengths), torch.tensor(target_lengths))
        got.backward()
        want.backward()
        numpy.testing.assert_allclose(got.item(), want.item(), rtol=1e-5)
        numpy.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-6)
