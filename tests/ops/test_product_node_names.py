"""Matrix products and F.linear show PyTorch's grad_fn names (printed in every tensor repr), case by case of
matmul's dispatch: mm/mv/dot, the squeeze_ of a vector times a matrix, folded and batched products, and linear's
addmm, flattened-addmm view and matmul-plus-bias paths."""
import warnings

import numpy
import pytest
import torch

import ember


def _name(lib, build):
    """The name of the node ``build(lib, r)`` ends with; ``r(*shape, grad=True)`` makes a leaf of ``lib``."""
    def r(*shape, grad=True):
        return lib.tensor(numpy.random.default_rng(len(shape)).standard_normal(shape, dtype=numpy.float32),
                          requires_grad=grad)
    result = build(lib, r)
    return result.grad_fn.name() if result.grad_fn is not None else None


CASES = {
    "mm": lambda lib, r: r(2, 3) @ r(3, 4),
    "mm function": lambda lib, r: lib.mm(r(2, 3), r(3, 4, grad=False)),
    "mv": lambda lib, r: r(2, 3) @ r(3),
    "vector @ matrix": lambda lib, r: r(2) @ r(2, 3),
    "dot": lambda lib, r: r(3) @ r(3),
    "vdot": lambda lib, r: lib.vdot(r(3), r(3)),
    "stack @ matrix": lambda lib, r: r(5, 2, 3) @ r(3, 4),
    "stack @ constant matrix": lambda lib, r: r(5, 2, 3) @ r(3, 4, grad=False),
    "stack @ vector": lambda lib, r: r(5, 2, 3) @ r(3),
    "vector @ stack": lambda lib, r: r(3) @ r(2, 5, 3, 4),
    "matrix @ stack": lambda lib, r: r(2, 3) @ r(5, 3, 4),
    "constant matrix @ stack": lambda lib, r: r(2, 3, grad=False) @ r(5, 3, 4),
    "row @ stack": lambda lib, r: r(1, 3) @ r(5, 3, 4, grad=False),
    "matrix @ stack of columns": lambda lib, r: r(2, 3) @ r(5, 3, 1, grad=False),
    "one-batch stack @ stack": lambda lib, r: r(1, 2, 3) @ r(5, 3, 4, grad=False),
    "stack @ one-batch stack": lambda lib, r: r(5, 2, 3, grad=False) @ r(1, 3, 4),
    "stack @ stack": lambda lib, r: r(5, 2, 3) @ r(5, 3, 4),
    "broadcast stacks": lambda lib, r: r(2, 5, 2, 3) @ r(5, 3, 4),
    "empty stack": lambda lib, r: r(0, 2, 3) @ r(3, 4),
    "bmm": lambda lib, r: lib.bmm(r(5, 2, 3), r(5, 3, 4)),
    "addmm": lambda lib, r: lib.addmm(r(4), r(2, 3), r(3, 4)),
    "addmm beta=0": lambda lib, r: lib.addmm(r(4, grad=False), r(2, 3), r(3, 4), beta=0),
    "addmm_": lambda lib, r: r(2, 4).clone().addmm_(r(2, 3), r(3, 4), alpha=2),
    "addmv": lambda lib, r: lib.addmv(r(2), r(2, 3), r(3)),
    "addbmm": lambda lib, r: lib.addbmm(r(2, 4), r(5, 2, 3), r(5, 3, 4)),
    "baddbmm": lambda lib, r: lib.baddbmm(r(5, 2, 4), r(5, 2, 3), r(5, 3, 4)),
    "addr": lambda lib, r: lib.addr(r(2, 3), r(2), r(3)),
    "multi_dot": lambda lib, r: lib.linalg.multi_dot([r(2, 3), r(3, 4)]),
    "multi_dot of vectors": lambda lib, r: lib.linalg.multi_dot([r(3), r(3, 4), r(4)]),
    "linear 2-D": lambda lib, r: lib.nn.functional.linear(r(2, 3), r(4, 3), r(4)),
    "linear 2-D broadcast bias": lambda lib, r: lib.nn.functional.linear(r(2, 3), r(4, 3), r(2, 4)),
    "linear 2-D no bias": lambda lib, r: lib.nn.functional.linear(r(2, 3), r(4, 3)),
    "linear 1-D": lambda lib, r: lib.nn.functional.linear(r(3), r(4, 3), r(4)),
    "linear 1-D no bias": lambda lib, r: lib.nn.functional.linear(r(3), r(4, 3)),
    "linear 3-D": lambda lib, r: lib.nn.functional.linear(r(5, 2, 3), r(4, 3), r(4)),
    "linear 4-D row bias": lambda lib, r: lib.nn.functional.linear(r(2, 5, 2, 3), r(4, 3), r(1, 4)),
    "linear 3-D matrix bias": lambda lib, r: lib.nn.functional.linear(r(5, 2, 3), r(4, 3), r(2, 4)),
    "linear 3-D scalar bias": lambda lib, r: lib.nn.functional.linear(r(5, 2, 3), r(4, 3), r()),
    "linear 3-D strided bias": lambda lib, r: lib.nn.functional.linear(r(5, 2, 3), r(4, 3), r(8)[::2]),
    "linear 3-D transposed": lambda lib, r: lib.nn.functional.linear(r(3, 2, 5).transpose(0, 2), r(4, 3), r(4)),
    "linear 3-D no bias": lambda lib, r: lib.nn.functional.linear(r(5, 2, 3), r(4, 3)),
}


@pytest.mark.parametrize("case", CASES)
def test_product_node_names_match_torch(case):
    assert _name(ember, CASES[case]) == _name(torch, CASES[case])


def test_chain_matmul_copies_one_matrix_and_checks_ranks():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for lib in (ember, torch):
            matrix = lib.ones(2, 3, requires_grad=True)
            result = lib.chain_matmul(matrix)
            assert result is not matrix and result.grad_fn.name() == "CloneBackward0"
            out = lib.empty(0)
            assert lib.chain_matmul(matrix.detach(), out=out) is out and out.shape == (2, 3)
            for args, message in [((), "chain_matmul(): Expected one or more matrices"),
                                  ((lib.ones(3), lib.ones(3, 2)), "Tensor dimension is 1, expected 2 instead.")]:
                with pytest.raises(RuntimeError, match=message.replace("(", r"\(").replace(")", r"\)")):
                    lib.chain_matmul(*args)
