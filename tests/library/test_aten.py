"""``torch.ops.aten``: PyTorch's ATen operators by name, against torch: the names and overloads, reprs, identity (so
they key dispatch tables, as PyTorch Geometric's ``Index`` and ``EdgeIndex`` do at import) and the values an
overload computes."""
import numpy
import pytest
import torch

import ember


def test_names_reprs_and_identity():
    for lib in (ember, torch):
        aten = lib.ops.aten
        assert repr(aten) == "<module 'torch.ops.aten' from 'torch.ops'>"
        assert repr(aten.sort) == "<OpOverloadPacket(op='aten.sort')>" and str(aten.sort) == "aten.sort"
        assert repr(aten.sort.stable) == "<OpOverload(op='aten.sort', overload='stable')>"
        assert str(aten.sort.stable) == "aten.sort.stable" and aten.sort.stable.__name__ == "sort.stable"
        assert aten.sort.stable.name() == "aten::sort.stable" and aten.sort.default.name() == "aten::sort"
        assert aten.sort is aten.sort and aten.sort.default is aten.sort.default
        assert aten.sort.default.overloadpacket is aten.sort and aten.sort.stable != aten.sort.default
        assert {aten.clone.default: 1, aten._to_copy.default: 2}[aten._to_copy.default] == 2
        assert {"default", "stable"} <= set(aten.sort.overloads())
        assert hasattr(aten, "_sparse_mm_reduce_impl") and hasattr(aten.add_, "Tensor")
    assert ember.ops.aten.add.overloads() == torch.ops.aten.add.overloads()
    for lib in (ember, torch):
        with pytest.raises(AttributeError, match="'_OpNamespace' 'aten' object has no attribute 'no_such_op'"):
            lib.ops.aten.no_such_op
        with pytest.raises(AttributeError, match="The underlying op of 'aten.sort' has no overload name 'nope'"):
            lib.ops.aten.sort.nope


def _calls(lib):
    aten = lib.ops.aten
    x = lib.tensor(numpy.array([[3.0, 1.0, 2.0], [0.5, 4.0, -1.0]], numpy.float32))
    i = lib.tensor([0, 2])
    added = lib.zeros(3)
    aten.add_.Tensor(added, lib.ones(3), alpha=2)
    return [aten.sort.stable(x, stable=True, dim=1, descending=False), aten.sort.default(x, 0, True),
            aten.slice.Tensor(lib.arange(10), 0, 2, 8, 3), aten.slice.Tensor(x, 1, 1),
            aten.index.Tensor(x, [None, i]), aten.index.Tensor(x, [i.new_tensor([1])]),
            aten._to_copy.default(x, dtype=lib.float64), aten.clone.default(x), aten.alias.default(x),
            aten.cat.default([x, x], 1), aten.flip.default(x, [0]), aten.index_select.default(x, 1, i),
            aten.select.int(x, 1, 2), aten.unbind.int(x, 0), aten.add.Tensor(x, x, alpha=3), added,
            aten.sub.Tensor(x, 1.0), aten.mm.default(x, x.t()), aten.max.dim(x, 1), aten.relu.default(x)]


def test_overloads_compute_as_torch():
    ours, theirs = _calls(ember), _calls(torch)
    for a, b in zip(ours, theirs):
        assert type(a).__name__ == type(b).__name__   # ATen returns plain tuples, not return_types
        for p, q in zip(a if isinstance(a, (tuple, list)) else [a], b if isinstance(b, (tuple, list)) else [b]):
            assert str(p.dtype).replace("ember", "torch") == str(q.dtype)
            numpy.testing.assert_array_equal(p.numpy(), q.numpy())
    source = ember.arange(3)
    assert ember.ops.aten.alias.default(source)._base is source
    assert ember.ops.aten._to_copy.default(source).data_ptr() != source.data_ptr()


def test_c10d_functional_names_as_torchs():
    """``torch.ops._c10d_functional``'s operators, which selective checkpointing policies list at import."""
    def names(lib):
        ns = lib.ops._c10d_functional
        op = ns.reduce_scatter_tensor
        answers = [repr(ns), repr(op), str(op), repr(op.default), str(op.default), op.default.name(), op.overloads(),
                   op.default.namespace, op.default.__name__, op.__name__,
                   op.default is ns.reduce_scatter_tensor.default, {ns.wait_tensor.default: 1}[ns.wait_tensor.default]]
        for missing in (lambda: ns.nope, lambda: op.nope):
            with pytest.raises(AttributeError) as error:
                missing()
            answers.append(str(error.value))
        return answers
    assert names(ember) == names(torch)
