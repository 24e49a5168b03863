"""The ``*_copy`` functions against PyTorch: values, shapes, gradients, fresh memory and out=."""
import numpy
import pytest

import ember

from ..oracle import check, sample

CASES = [("alias_copy", ()), ("as_strided_copy", ((2, 2), (1, 2), 1)),
         ("diagonal_copy", (1, 0, 1)), ("expand_copy", ((2, 3, 4),)), ("permute_copy", ((1, 0),)),
         ("select_copy", (1, -1)), ("slice_copy", (1, 1, 4, 2)), ("slice_copy", ()), ("split_copy", (2, 1)),
         ("split_with_sizes_copy", ([1, 3], 1)), ("squeeze_copy", ()), ("t_copy", ()), ("transpose_copy", (0, 1)),
         ("unbind_copy", (1,)), ("unfold_copy", (1, 2, 1)), ("unsqueeze_copy", (1,)), ("view_copy", ((4, 3),))]


@pytest.mark.parametrize("name, args", CASES)
def test_copies_match_torch(name, args):
    check(lambda L, x: getattr(L, name)(x, *args), sample((3, 4), numpy.float64))


def test_complex_views_and_fresh_memory():
    check(lambda L, x: L.view_as_real_copy(x), sample((3,), numpy.complex64), grad=False)
    check(lambda L, x: L.view_as_complex_copy(x), sample((3, 2), numpy.float32), grad=False)
    x = ember.zeros(2, 3)
    copy = ember.t_copy(x)
    copy[0, 0] = 5
    assert x[0, 0].item() == 0 and copy._base is None
    out = ember.empty(3, 2)
    assert ember.permute_copy(x, (1, 0), out=out) is out
