"""Result layouts of ops whose PyTorch kernels allocate a fresh row-major (or channels-last) result whatever their
input's strides: roll, pad, cat, renorm of transposed, permuted and channels-last inputs have torch's strides (NumPy
follows a transposed input's order, so ``.view(-1)`` after them failed where it works in PyTorch), and their nodes
list the op's inputs as PyTorch's do."""
import pytest
import torch

import ember


def _inputs(L):
    L.manual_seed(0)
    square = L.randn(6, 5, requires_grad=True)
    batch = L.randn(2, 3, 4, 5, requires_grad=True)
    return {"transposed": square.t(), "stepped": square[::2], "permuted 3-d": L.randn(2, 3, 4).permute(2, 0, 1),
            "channels-last": batch.to(memory_format=L.channels_last), "permuted 4-d": batch.permute(0, 2, 3, 1),
            "row-major": batch * 1}


OPS = {
    "roll one dim": lambda L, x: x.roll(1, -1),
    "roll flat": lambda L, x: x.roll(2),
    "roll two dims": lambda L, x: x.roll((1, -1), (0, 1)),
    "pad constant": lambda L, x: L.nn.functional.pad(x, (1, 2)),
    "pad reflect": lambda L, x: L.nn.functional.pad(x, (1, 1), mode="reflect"),
    "pad replicate": lambda L, x: L.nn.functional.pad(x, (1, 2), mode="replicate"),
    "pad circular": lambda L, x: L.nn.functional.pad(x, (1, 1), mode="circular"),
    "cat": lambda L, x: L.cat([x, x], 0),
    "cat with a row-major copy": lambda L, x: L.cat([x, x.contiguous()], -1),
    "renorm": lambda L, x: x.renorm(2, 0, 1.0),
}


@pytest.mark.parametrize("layout", list(_inputs(torch)))
@pytest.mark.parametrize("op", OPS)
def test_strides_and_nodes_as_pytorch(op, layout):
    def run(L):
        x = _inputs(L)[layout]
        if op.startswith("pad") and op != "pad constant" and x.ndim == 2:
            x = x[None]   # reflect/replicate/circular pads want a batch dim
        try:
            return OPS[op](L, x)
        except (RuntimeError, NotImplementedError) as error:
            return type(error).__name__
    mine, theirs = run(ember), run(torch)
    if isinstance(theirs, str):
        assert mine == theirs
        return
    assert tuple(mine.shape) == tuple(theirs.shape)
    assert mine.stride() == theirs.stride()
    if theirs.is_contiguous():
        mine.view(-1)
    if theirs.grad_fn is not None and op != "pad circular":   # PyTorch writes that one's slices in place
        assert mine.grad_fn.name() == theirs.grad_fn.name()
        assert [n.name() if n else None for n, _ in mine.grad_fn.next_functions] == \
            [n.name() if n else None for n, _ in theirs.grad_fn.next_functions]
