"""torch.autograd.functional.jacobian with vectorize=True and outputs without elements (found by a differential
sweep against PyTorch 2.13): an empty output beside others gets an empty block, all outputs empty raise PyTorch's
IndexError (its batch of basis vectors is empty). Each program runs on ember and on torch."""
import pytest

from tests.optim.sweep import check


def _jacobian(L, func, x, vectorize, create_graph):
    return L.autograd.functional.jacobian(func, x, vectorize=vectorize, create_graph=create_graph)


PROGRAMS = {
    "an empty output beside a full one": lambda L, v, c: _jacobian(
        L, lambda x: (x * 2, x[:0] * x.sum()), L.ones(2), v, c),
    "the only output empty": lambda L, v, c: _jacobian(L, lambda x: x[:0] * 2, L.ones(2), v, c),
    "an empty input": lambda L, v, c: _jacobian(L, lambda x: x * 2, L.ones(0), v, c),
    "an empty output not requiring grad": lambda L, v, c: _jacobian(L, lambda x: x.new_ones(0), L.ones(2), v, c),
    "hessian of an empty input": lambda L, v, c: L.autograd.functional.hessian(
        lambda x: x.sum(), L.ones(0), vectorize=v, create_graph=c),
}


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("vectorize", [False, True])
@pytest.mark.parametrize("name", PROGRAMS)
def test_jacobian_of_empty_outputs_as_torch(name, vectorize, create_graph):
    check(lambda L: PROGRAMS[name](L, vectorize, create_graph), warns=False)
