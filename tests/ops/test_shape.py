"""Shape ops against PyTorch: values, dtypes, gradients, view semantics and errors."""
import numpy
import pytest

import ember
from tests.oracle import check, check_error, gradcheck, noncontiguous, sample

A = sample((2, 3, 4))
M = sample((3, 4), seed=1)
V = sample((5,), seed=2)
S = sample((), seed=3)
E = sample((0, 3), seed=4)
NC = noncontiguous(sample((3, 4), seed=5))
I = sample((3, 4), numpy.int64, seed=6)

# name, fn(lib, *args), args
SHAPE_OPS = [
    ("reshape", lambda L, x: x.reshape(4, -1), (A,)),
    ("reshape_nc", lambda L, x: L.reshape(x, (-1,)), (NC,)),
    ("view", lambda L, x: x.view(-1, 2), (A,)),
    ("view_as", lambda L, x, y: x.view_as(y), (sample((12,)), M)),
    ("reshape_as", lambda L, x, y: x.reshape_as(y), (sample((12,)), M)),
    ("flatten", lambda L, x: L.flatten(x, 1), (A,)),
    ("flatten_0d", lambda L, x: L.flatten(x), (S,)),
    ("flatten_nc", lambda L, x: x.flatten(), (NC,)),
    ("unflatten", lambda L, x: x.unflatten(-1, (2, -1)), (A,)),
    ("squeeze", lambda L, x: L.squeeze(x), (sample((1, 3, 1)),)),
    ("squeeze_dim", lambda L, x: x.squeeze(-1), (sample((1, 3, 1)),)),
    ("squeeze_tuple", lambda L, x: x.squeeze((0, 1)), (sample((1, 3, 1)),)),
    ("squeeze_0d", lambda L, x: x.squeeze(0), (S,)),
    ("separate dims", lambda L, x: [x.squeeze(0, 2), x.flip(0, 1), x.flip(2), x.tile(2, 1), x.tile(2)],
     (sample((1, 3, 1)),)),
    ("unsqueeze", lambda L, x: L.unsqueeze(x, -1), (M,)),
    ("unsqueeze_0d", lambda L, x: x.unsqueeze(0), (S,)),
    ("permute", lambda L, x: x.permute(2, 0, 1), (A,)),
    ("permute_tuple", lambda L, x: L.permute(x, (-1, 0, 1)), (A,)),
    ("transpose", lambda L, x: L.transpose(x, 0, -1), (A,)),
    ("swapaxes", lambda L, x: L.swapaxes(x, 0, 1), (NC,)),
    ("swapdims", lambda L, x: x.swapdims(0, 1), (M,)),
    ("t", lambda L, x: x.t(), (M,)),
    ("t_1d", lambda L, x: L.t(x), (V,)),
    ("T", lambda L, x: x.T, (M,)),
    ("mT", lambda L, x: x.mT, (A,)),
    ("H", lambda L, x: x.H, (M,)),
    ("mH", lambda L, x: x.mH, (A,)),
    ("adjoint", lambda L, x: L.adjoint(x), (M,)),
    ("expand", lambda L, x: x.expand(2, -1, 4), (sample((3, 1)),)),
    ("expand_as", lambda L, x, y: x.expand_as(y), (sample((3, 1)), M)),
    ("broadcast_to", lambda L, x: L.broadcast_to(x, (2, 3, 4)), (sample((4,)),)),
    ("narrow", lambda L, x: L.narrow(x, -1, 1, 2), (A,)),
    ("narrow_neg", lambda L, x: x.narrow(0, -2, 2), (NC,)),
    ("select", lambda L, x: L.select(x, 1, -1), (A,)),
    ("narrow_copy", lambda L, x: L.narrow_copy(x, 1, 1, 2), (M,)),
    ("ravel", lambda L, x: L.ravel(x), (NC,)),
    ("split_with_sizes", lambda L, x: L.split_with_sizes(x, [2, 2], -1), (A,)),
    ("hsplit", lambda L, x: L.hsplit(x, 2), (M,)),
    ("hsplit_1d", lambda L, x: x.hsplit([1, 3]), (V,)),
    ("vsplit", lambda L, x: L.vsplit(x, [1]), (M,)),
    ("dsplit", lambda L, x: L.dsplit(x, 2), (A,)),
    ("row_stack", lambda L, x, y: L.row_stack([x, y]), (sample((4,)), M)),
    ("chunk", lambda L, x: L.chunk(x, 3, -1), (A,)),
    ("chunk_empty", lambda L, x: x.chunk(2), (E,)),
    ("split_int", lambda L, x: L.split(x, 3, 2), (A,)),
    ("split_sizes", lambda L, x: x.split([1, 3], -1), (A,)),
    ("tensor_split_n", lambda L, x: L.tensor_split(x, 3, 2), (A,)),
    ("tensor_split_idx", lambda L, x: x.tensor_split([1, 3], 1), (M,)),
    ("tensor_split_indices_kw", lambda L, x: L.tensor_split(x, indices=(1,), dim=2), (A,)),
    ("tensor_split_sections_kw", lambda L, x: x.tensor_split(sections=2, dim=-1), (A,)),
    ("tensor_split_tensor_kw", lambda L, x: x.tensor_split(tensor_indices_or_sections=L.tensor([1, 2])), (M,)),
    ("unbind", lambda L, x: L.unbind(x, 1), (A,)),
    ("movedim", lambda L, x: L.movedim(x, 0, -1), (A,)),
    ("moveaxis", lambda L, x: L.moveaxis(x, (0, 1), (2, 0)), (A,)),
    ("diagonal", lambda L, x: L.diagonal(x, 1), (M,)),
    ("diagonal_neg", lambda L, x: x.diagonal(-1, 0, 2), (A,)),
    ("diagonal_far", lambda L, x: x.diagonal(7), (M,)),
    ("diagonal_nc", lambda L, x: x.diagonal(), (NC,)),
    ("unfold", lambda L, x: x.unfold(1, 2, 1), (M,)),
    ("unfold_step", lambda L, x: x.unfold(-1, 2, 2), (A,)),
    ("as_strided", lambda L, x: L.as_strided(x, (3, 2), (1, 3), 1), (M,)),
    ("as_strided_overlap", lambda L, x: x.as_strided((3, 3), (1, 1)), (V,)),
    ("repeat", lambda L, x: x.repeat(2, 1, 3), (M,)),
    ("repeat_0d", lambda L, x: x.repeat(3), (S,)),
    ("repeat_interleave", lambda L, x: L.repeat_interleave(x, 2), (M,)),
    ("repeat_interleave_dim", lambda L, x, r: x.repeat_interleave(r, dim=0), (M, numpy.array([1, 0, 2]))),
    ("repeat_interleave_counts", lambda L, r: L.repeat_interleave(r), (numpy.array([2, 0, 1]),)),
    ("tile", lambda L, x: L.tile(x, (2,)), (M,)),
    ("cat", lambda L, x, y: L.cat([x, y], -1), (M, NC)),
    ("cat_promote", lambda L, x, y: L.cat((x, y)), (I, M)),
    ("cat_legacy_empty", lambda L, x, y: L.concat([x, y], 1), (M, numpy.zeros(0, numpy.float32))),
    ("concatenate_empty", lambda L, x, y: L.concatenate([x, y]), (E, M[:, :3].copy())),
    ("stack", lambda L, x, y: L.stack([x, y], -1), (M, NC)),
    ("hstack", lambda L, x, y: L.hstack([x, y]), (V, V)),
    ("hstack2", lambda L, x, y: L.hstack([x, y]), (M, NC)),
    ("vstack", lambda L, x, y: L.vstack([x, y]), (sample((4,)), M)),
    ("dstack", lambda L, x, y: L.dstack([x, y]), (M, NC)),
    ("column_stack", lambda L, x, y: L.column_stack([x, y]), (sample((3,)), M)),
    ("flip", lambda L, x: L.flip(x, (0, -1)), (A,)),
    ("flip_0d", lambda L, x: x.flip(0), (S,)),
    ("fliplr", lambda L, x: L.fliplr(x), (NC,)),
    ("flipud", lambda L, x: L.flipud(x), (V,)),
    ("roll", lambda L, x: L.roll(x, 1), (M,)),
    ("roll_dims", lambda L, x: x.roll((1, -2), (0, 2)), (A,)),
    ("rot90", lambda L, x: L.rot90(x), (M,)),
    ("rot90_k2", lambda L, x: x.rot90(2, (1, 2)), (A,)),
    ("rot90_k3", lambda L, x: L.rot90(x, -1, [0, 1]), (NC,)),
    ("rot90_k0", lambda L, x: L.rot90(x, 4), (M,)),
    ("broadcast_tensors", lambda L, x, y: L.broadcast_tensors(x, y), (sample((3, 1)), V)),
    ("atleast_1d", lambda L, x: L.atleast_1d(x), (S,)),
    ("atleast_2d", lambda L, x, y: L.atleast_2d(x, y), (S, V)),
    ("atleast_3d", lambda L, x, y, z: L.atleast_3d((x, y, z)), (S, V, M)),
    ("meshgrid_ij", lambda L, x, y: L.meshgrid(x, y, indexing="ij"), (V, sample((3,)))),
    ("meshgrid_xy", lambda L, x, y, z: L.meshgrid(x, y, z, indexing="xy"), (V, sample((3,)), sample((2,)))),
    ("cartesian_prod", lambda L, x, y: L.cartesian_prod(x, y), (V, sample((3,)))),
    ("cartesian_prod_one", lambda L, x: L.cartesian_prod(x), (V,)),
    ("tril", lambda L, x: L.tril(x), (A,)),
    ("triu", lambda L, x: x.triu(-1), (NC,)),
    ("tril_k", lambda L, x: x.tril(2), (M,)),
    ("diag_1d", lambda L, x: L.diag(x, 1), (V,)),
    ("diag_2d", lambda L, x: L.diag(x, -1), (M,)),
    ("diag_embed", lambda L, x: L.diag_embed(x, 1, 0, 2), (M,)),
    ("diag_embed_default", lambda L, x: x.diag_embed(), (A,)),
    ("diagflat", lambda L, x: L.diagflat(x, -1), (sample((2, 2)),)),
    ("trace", lambda L, x: L.trace(x), (M,)),
    ("trace_int", lambda L, x: x.trace(), (I,)),
    ("kron", lambda L, x, y: L.kron(x, y), (sample((2, 3)), sample((3,)))),
    ("block_diag", lambda L, x, y, z: L.block_diag(x, y, z), (M, V, S)),
    ("cross", lambda L, x, y: L.cross(x, y, dim=2), (sample((1, 2, 3)), sample((4, 1, 3), seed=9))),
    ("cross_neg", lambda L, x, y: x.cross(y, -2), (sample((3, 2)), sample((3, 2), seed=9))),
]


@pytest.mark.parametrize("name,fn,args", SHAPE_OPS, ids=[row[0] for row in SHAPE_OPS])
def test_shape_op_matches_torch(name, fn, args):
    check(fn, *args)


def test_conjugate_transposes_of_complex():
    # Multiplied by 1 and compared without gradients: torch's lazy conjugate bit blocks .numpy().
    z = sample((2, 2, 3), numpy.complex128)
    check(lambda L, x: (x[0].H * 1, x.mH * 1, L.adjoint(x) * 1), z, grad=False)


@pytest.mark.parametrize("dtype", [numpy.bool_, numpy.uint8, numpy.int32, numpy.float16, numpy.float64,
                                   numpy.complex64])
def test_dtypes_pass_through(dtype):
    x = sample((2, 3), dtype)
    check(lambda L, x: L.cat([x.flip(0).t(), x.T.roll(1)], 0).repeat(1, 2).tril(), x)


def test_empty_inputs():
    check(lambda L, x: (x.t(), x.reshape(3, 0), x.flip(0), x.repeat(2, 1), L.cat([x, x], 0)), E)
    check(lambda L, x: x.unbind(0), E)
    check(lambda L, x: x.unbind(1), E)


GRAD_OPS = [
    lambda L, x: x.permute(1, 0, 2).unfold(2, 2, 1).diagonal(0, 0, 1),
    lambda L, x: L.stack(x.unbind(1), 0) * x.sum(),
    lambda L, x: L.cat(x.split([1, 3], -1)[::-1], -1).repeat(2, 1, 1),
    lambda L, x: L.as_strided(x, (3, 3), (2, 1), 1),
    lambda L, x: L.roll(x.tril(), 1, 0).rot90(1, (1, 2)),
    lambda L, x: L.kron(x[0], x[1]),
    lambda L, x: L.diag_embed(x, 1),
    lambda L, x: x.repeat_interleave(2, 1),
    lambda L, x: L.cross(x[:, :, :3], x[:, :, 1:], dim=2),
]


@pytest.mark.parametrize("index", range(len(GRAD_OPS)))
def test_finite_difference_gradients(index):
    if not hasattr(ember.autograd, "gradcheck"):
        pytest.skip("ember.autograd.gradcheck not available yet")
    gradcheck(GRAD_OPS[index], sample((2, 3, 4), numpy.float64))


# --- view semantics -------------------------------------------------------------------------------------------------
VIEWS = [
    lambda x: x.view(6, 4), lambda x: x.reshape(-1), lambda x: x.flatten(1), lambda x: x.unflatten(2, (2, 2)),
    lambda x: x.squeeze(), lambda x: x.unsqueeze(1), lambda x: x.permute(2, 1, 0), lambda x: x.transpose(0, 1),
    lambda x: x.mT, lambda x: x[0].t(), lambda x: x.expand(2, 2, 3, 4), lambda x: x.narrow(1, 1, 2),
    lambda x: x.select(2, 1), lambda x: x.chunk(2, 2)[1], lambda x: x.split(1)[1], lambda x: x.tensor_split(3, 1)[2],
    lambda x: x.unbind(2)[3], lambda x: x.movedim(0, 2), lambda x: x.diagonal(0, 1, 2), lambda x: x.unfold(2, 2, 1),
    lambda x: x.as_strided((3, 3), (4, 1), 2), lambda x: x.view_as(x), lambda x: ember.atleast_3d(x[0, 0]),
    lambda x: ember.broadcast_to(x, (2, 2, 3, 4)), lambda x: ember.meshgrid(x[0, 0], x[0, 1], indexing="xy")[0],
    lambda x: x[1, :, ::2], lambda x: x[None, ..., 1],
]


@pytest.mark.parametrize("index", range(len(VIEWS)))
def test_views_share_memory_and_version(index):
    base = ember.tensor(numpy.arange(24.0).reshape(2, 3, 4))
    view = VIEWS[index](base)
    assert numpy.shares_memory(view.numpy(), base.numpy())
    assert view._base is base and view._version_counter is base._version_counter
    if view.numpy().flags.writeable:   # expanded views are read-only, as writing them is an error in PyTorch
        before = base._version
        view.mul_(1)
        assert base._version == before + 1


def test_copies_do_not_share_memory():
    base = ember.arange(24.0).reshape(2, 3, 4)
    for result in (base.flip(0), base.roll(1), base.repeat(1, 1, 1), base.tril(), ember.cat([base]),
                   base.diag_embed(), ember.diag(base[0], 1), base.rot90()):
        assert not numpy.shares_memory(result.numpy(), base.numpy())


def test_write_through_view_shows_in_base():
    base = ember.zeros(3, 4)
    base.t().diagonal().add_(1)
    base.unfold(1, 2, 2)[:, :, 0].fill_(2.0) if hasattr(ember.Tensor, "fill_") else None
    expected = numpy.eye(3, 4, dtype=numpy.float32)
    if hasattr(ember.Tensor, "fill_"):
        expected[:, ::2] = 2
    numpy.testing.assert_array_equal(base.numpy(), expected)


def test_inplace_on_view_of_saved_base_is_detected():
    for lib in (pytest.importorskip("torch"), ember):
        leaf = lib.ones(3, 4, requires_grad=True)
        base = leaf * 1
        out = (base * base).sum()
        base.t()[0].mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.backward()


def test_view_backward_reaches_leaf_through_nested_views():
    check(lambda L, x: x.t().unsqueeze(0).expand(2, 4, 3).narrow(2, 1, 2).diagonal(0, 1, 2), M)


@pytest.mark.parametrize("method,args", [("squeeze_", ()), ("squeeze_", (0,)), ("unsqueeze_", (1,)), ("t_", ()),
                                         ("transpose_", (0, 2)), ("swapaxes_", (1, 2)), ("swapdims_", (0, 1))])
def test_inplace_view_changes(method, args):
    import torch
    x = sample((1, 3, 2))
    e, t = ember.tensor(x), torch.tensor(x)
    if method == "t_":
        e, t = e[0], t[0]
    version = e._version
    assert getattr(e, method)(*args) is e
    getattr(t, method)(*args)
    assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride()
    numpy.testing.assert_array_equal(e.numpy(), t.numpy())
    assert e._version == version + 1


def test_inplace_view_change_keeps_graph():
    check(lambda L, x: (x * 2).unsqueeze_(0).t_() if False else (x * 2).unsqueeze_(1).transpose_(0, 2), M)


def test_inplace_view_change_on_leaf_requiring_grad_raises():
    check_error(lambda L: L.ones(2, requires_grad=True).unsqueeze_(0))


def test_inplace_tril_triu():
    check(lambda L, x: (x * 1).tril_(-1) + (x * 1).triu_(1), M)


def test_as_strided_uses_base_storage():
    import torch
    data = sample((4, 5))
    e, t = ember.tensor(data)[1:, 1:], torch.tensor(data)[1:, 1:]
    assert e.storage_offset() == t.storage_offset() == 6
    for args in (((2, 2), (5, 1)), ((2, 2), (5, 1), 0), ((3,), (6,), 2)):
        numpy.testing.assert_array_equal(e.as_strided(*args).numpy(), t.as_strided(*args).numpy())


def test_stride_and_contiguity_match_torch():
    import torch
    for fn in (lambda x: x.t(), lambda x: x.unfold(1, 2, 1), lambda x: x.diagonal(), lambda x: x[:, 1::2],
               lambda x: x.unsqueeze(1), lambda x: x.expand(2, 3, 4)):
        e, t = fn(ember.tensor(M)), fn(torch.tensor(M))
        assert e.stride() == t.stride()
        assert e.is_contiguous() == t.is_contiguous()


def test_deprecation_warnings_match_torch():
    from ember.ops import _util
    # each warns once per process, as PyTorch's: forget earlier tests' warnings
    _util._warned.difference_update({"x.T", "meshgrid indexing", "cross without dim"})
    x = ember.tensor(A)
    with pytest.warns(UserWarning, match="x.T"):
        x.T
    with pytest.warns(UserWarning, match="indexing argument"):
        ember.meshgrid(ember.tensor(V))
    with pytest.warns(UserWarning, match="without specifying the dim"):
        ember.cross(ember.tensor(sample((3, 3))), ember.tensor(sample((3, 3))))


def test_broadcast_shapes():
    import torch
    for shapes in (((2, 1), (3,)), (4, (1, 4), ()), ((0, 1), (3,))):
        assert tuple(ember.broadcast_shapes(*shapes)) == tuple(torch.broadcast_shapes(*shapes))
    check_error(lambda L: L.broadcast_shapes((2,), (3,)), match="Attempting to broadcast a dimension of length 3")


ERRORS = [
    ("cat_sizes", lambda L, x, y: L.cat([x, y], 1), (sample((2, 2)), sample((3, 3))),
     r"Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 for tensor number 1 in the "
     r"list."),
    ("cat_0d", lambda L, x: L.cat([x]), (S,), "zero-dimensional tensor"),
    ("cat_empty_list", lambda L: L.cat([]), (), "non-empty list"),
    ("cat_ndim", lambda L, x, y: L.cat([x, y]), (M, A), "same number of dimensions"),
    ("cat_dim", lambda L, x: L.cat([x], 2), (M,), "Dimension out of range"),
    ("stack_sizes", lambda L, x, y: L.stack([x, y]), (V, M), "stack expects each tensor to be equal size"),
    ("view_incompatible", lambda L, x: x.t().view(-1), (M,), "view size is not compatible"),
    ("reshape_bad", lambda L, x: x.reshape(5, -1), (M,), "invalid for input of size 12"),
    ("t_3d", lambda L, x: x.t(), (A,), "t\\(\\) expects a tensor with <= 2 dimensions, but self is 3D"),
    ("mT_1d", lambda L, x: x.mT, (V,), "tensor.mT is only supported"),
    ("H_3d", lambda L, x: x.H * 1, (A,), "tensor.H is only supported"),
    ("permute_len", lambda L, x: x.permute(0, 1), (A,), "does not match the length"),
    ("permute_dup", lambda L, x: x.permute(0, 0, 1), (A,), "duplicate dims"),
    ("transpose_dim", lambda L, x: x.transpose(0, 3), (A,), "Dimension out of range"),
    ("squeeze_dim", lambda L, x: x.squeeze(5), (A,), "Dimension out of range"),
    ("unsqueeze_dim", lambda L, x: x.unsqueeze(4), (A,), "Dimension out of range"),
    ("flatten_order", lambda L, x: x.flatten(2, 1), (A,), "start_dim cannot come after end_dim"),
    ("unflatten_sizes", lambda L, x: x.unflatten(0, (2, 2)), (V,), "don't multiply up"),
    ("expand_bad", lambda L, x: x.expand(3, 3), (sample((2, 3)),), "must match the existing size"),
    ("expand_few", lambda L, x: x.expand(3), (M,), "the number of sizes provided"),
    ("narrow_start", lambda L, x: x.narrow(0, 6, 0), (V,), "start out of range"),
    ("narrow_length", lambda L, x: x.narrow(0, 3, 3), (V,), "exceeds dimension size"),
    ("unfold_size", lambda L, x: x.unfold(0, 6, 1), (V,), "maximum size for tensor at dimension 0 is 5"),
    ("unfold_step", lambda L, x: x.unfold(0, 2, 0), (V,), "step is 0 but must be > 0"),
    ("chunk_zero", lambda L, x: x.chunk(0), (V,), "greater than 0"),
    ("split_sum", lambda L, x: x.split([1, 2]), (V,), "split_with_sizes expects split_sizes to sum exactly to 5"),
    ("split_zero", lambda L, x: x.split(0), (V,), "split_size can only be 0"),
    ("tensor_split_zero", lambda L, x: x.tensor_split(0), (V,), "number of sections must be larger than 0"),
    ("tensor_split_no_split", lambda L, x: L.tensor_split(x), (V,),
     r"tensor_split\(\) received an invalid combination of arguments - got \(Tensor\), but expected one of"),
    ("tensor_split_kw_type", lambda L, x: L.tensor_split(x, indices=2), (V,), r"got \(Tensor, indices=int\)"),
    ("unbind_0d", lambda L, x: x.unbind(), (S,), "tensor has no dimensions"),
    ("movedim_len", lambda L, x: L.movedim(x, (0, 1), (0,)), (A,), "should contain the same number of dims"),
    ("movedim_repeat", lambda L, x: L.movedim(x, (0, 0), (1, 2)), (A,), "repeated dim in `source`"),
    ("diagonal_same", lambda L, x: x.diagonal(0, 1, 1), (A,), "diagonal dimensions cannot be identical"),
    ("as_strided_oob", lambda L, x: x.as_strided((13,), (1,)), (M,), "out of bounds for storage of size 48"),
    ("as_strided_neg", lambda L, x: x.as_strided((2,), (-1,), 2), (M,), "Negative strides"),
    ("repeat_few", lambda L, x: x.repeat(2), (M,), "can not be smaller"),
    ("repeat_interleave_len", lambda L, x, r: x.repeat_interleave(r), (V, numpy.array([1, 2])),
     "repeats must have the same size"),
    ("repeat_interleave_neg", lambda L, x: x.repeat_interleave(-1), (V,), "must be non-negative"),
    ("fliplr_1d", lambda L, x: L.fliplr(x), (V,), "Input must be >= 2-d."),
    ("flipud_0d", lambda L, x: L.flipud(x), (S,), "Input must be >= 1-d."),
    ("roll_align", lambda L, x: L.roll(x, (1, 2), 0), (M,), "shifts and dimensions must align"),
    ("rot90_dims", lambda L, x: L.rot90(x, 1, [0]), (M,), "expected total rotation dims == 2"),
    ("rot90_same", lambda L, x: L.rot90(x, 1, [0, 0]), (M,), "expected rotation dims to be different"),
    ("rot90_1d", lambda L, x: L.rot90(x), (V,), "expected total dims >= 2"),
    ("tril_1d", lambda L, x: L.tril(x), (V,), "tril: input tensor must have at least 2 dimensions"),
    ("diag_3d", lambda L, x: L.diag(x), (A,), r"diag\(\): Supports 1D or 2D tensors. Got 3D"),
    ("trace_3d", lambda L, x: L.trace(x), (A,), "trace: expected a matrix"),
    ("cross_len", lambda L, x: L.cross(x, x, dim=1), (M,), "must have length 3"),
    ("cross_ndim", lambda L, x, y: L.cross(x, y, dim=-1), (M[:, :3].copy(), A[..., :3].copy()),
     "must have the same number of dimensions"),
    ("broadcast_tensors", lambda L, x, y: L.broadcast_tensors(x, y), (V, M), "must match the size of tensor b"),
    ("meshgrid_2d", lambda L, x: L.meshgrid(x, indexing="ij"), (M,), "Expected 0D or 1D tensor"),
    ("hsplit_divisible", lambda L, x: L.hsplit(x, 3), (M,), "is not divisible by the split_size 3"),
    ("vsplit_1d", lambda L, x: L.vsplit(x, 1), (V,), "requires a tensor with at least 2 dimensions"),
    ("block_diag_3d", lambda L, x: L.block_diag(x), (A,), "must have 2 or fewer dimensions"),
]


@pytest.mark.parametrize("name,fn,args,match", ERRORS, ids=[row[0] for row in ERRORS])
def test_errors_match_torch(name, fn, args, match):
    check_error(fn, *args, match=match)


@pytest.mark.parametrize("fn", [
    lambda L, x: x.reshape(shape=(4, -1)), lambda L, x: L.reshape(x, shape=[-1]), lambda L, x: x.view(size=(6, 4)),
    lambda L, x: x.permute(dims=(2, 0, 1)), lambda L, x: L.permute(x, dims=[1, 2, 0]),
    lambda L, x: x.expand(size=(2, 2, 3, 4)), lambda L, x: x.expand(size=(2, 3, 4), implicit=True),
    lambda L, x: x.repeat(repeats=(1, 2, 1)), lambda L, x: x.detach().clone().resize_(size=(4, 6)),
    lambda L, x: x.split(split_size=1), lambda L, x: x.split(split_size=[1, 2], dim=1),
    lambda L, x: L.split(x, split_size_or_sections=[3, 1], dim=-1)])
def test_sizes_by_their_keyword_as_torch(fn):
    """PyTorch's parser takes a ``*sizes`` op's sizes by keyword too (diffusers' DiT: ``reshape(shape=...)``)."""
    check(fn, A)


@pytest.mark.parametrize("fn, match", [
    (lambda L, x: x.reshape(6, 4, shape=(24,)), "multiple values for argument 'shape'"),
    (lambda L, x: x.permute((2, 0, 1), dims=(1,)), "multiple values for argument 'dims'"),
    (lambda L, x: x.reshape(shape=24), "argument 'shape' must be tuple of ints, not int"),
    (lambda L, x: x.repeat(repeats=3), "argument 'repeats' must be tuple of ints, not int"),
    (lambda L, x: x.expand(sizes=(2, 3, 4)), None),
    (lambda L, x: x.split(split_size_or_sections=2), "Tensor.split\\(\\) got an unexpected keyword argument"),
    (lambda L, x: L.split(x, split_size=2), "split\\(\\) got an unexpected keyword argument 'split_size'")])
def test_sizes_keyword_errors_as_torch(fn, match):
    check_error(fn, A, match=match)


@pytest.mark.parametrize("shape, sizes", [((3, 4), (2, 3)), ((3, 1, 4), (2, 2, 5, 3)), ((2, 3), (4, 2, 5))], ids=str)
def test_expand_reports_the_last_mismatching_dim_as_pytorch(shape, sizes):
    """PyTorch checks expand's sizes from the last dim: the message names the last dim that does not fit."""
    from tests.oracle import check_same_error
    check_same_error(lambda t: t.zeros(shape).expand(*sizes))
