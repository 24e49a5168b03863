"""``Tensor.set_`` and ``is_set_to`` against PyTorch: sharing another tensor's or a storage's memory in place, the
empty form, offsets/sizes/strides, later writes seen through both, views made before left alone, and the errors."""
import pytest
import torch

import ember


def _both(fn):
    return fn(ember), fn(torch)


def _same(mine, theirs):
    assert mine.tolist() == theirs.tolist() and tuple(mine.shape) == tuple(theirs.shape)
    assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]


def test_set_to_a_tensor_shares_its_memory_and_bumps_the_version():
    def run(lib):
        a, b = lib.zeros(3), lib.arange(6.).reshape(2, 3)
        view = a[:2]
        returned = a.set_(b)
        a.add_(1)
        return returned is a, a, b, view, a._version, a.is_set_to(b), a.data_ptr() == b.data_ptr()
    for mine, theirs in zip(*_both(run)):
        if isinstance(theirs, torch.Tensor):
            _same(mine, theirs)
        else:
            assert mine == theirs


@pytest.mark.parametrize("args", [(), ("storage",), ("storage", 2, (2, 2), (3, 1)), ("storage", 1, (3,)),
                                  ("tensor", 4, (2, 3)), ("tensor", 0, (2,), (5,))])
def test_set_forms_match_torch(args):
    def run(lib):
        source = lib.arange(10.)
        given = [source.untyped_storage() if a == "storage" else source if a == "tensor" else a for a in args]
        target = lib.empty(0)
        target.set_(*given)
        target.mul_(2)   # writes through to the source
        return target, source, target.is_set_to(source)
    (mine, mine_source, mine_set), (theirs, their_source, their_set) = _both(run)
    _same(mine, theirs)
    _same(mine_source, their_source)
    assert mine_set == their_set


def test_bytes_of_another_dtype_and_the_errors_match_torch():
    def run(lib):
        return lib.empty(0, dtype=lib.float64).set_(lib.arange(4.).untyped_storage())
    _same(*_both(run))
    for make in (lambda lib: lib.zeros(2).set_(lib.zeros(2, dtype=lib.int64)),
                 lambda lib: lib.zeros(2, requires_grad=True).set_(lib.ones(2))):
        with pytest.raises(RuntimeError) as theirs:
            make(torch)
        with pytest.raises(RuntimeError, match=str(theirs.value).replace("(", r"\(").split(".")[0]):
            make(ember)


def test_a_leaf_requiring_grad_can_be_set_without_grad():
    def run(lib):
        weight = lib.zeros(2, requires_grad=True)
        with lib.no_grad():
            weight.set_(lib.ones(3))
        return weight, weight.requires_grad
    (mine, mine_grad), (theirs, their_grad) = _both(run)
    assert mine.tolist() == theirs.detach().tolist() and mine_grad == their_grad
    assert ember.ones(2).is_distributed() is torch.ones(2).is_distributed() is False
