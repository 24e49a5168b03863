"""Tangents of ops under autograd.forward_ad against torch.autograd.forward_ad (primals and tangents, None where
torch gives None), and against central differences where torch has no forward derivative."""
import warnings

import numpy
import pytest
import torch
import torch.autograd.forward_ad as tfw

import ember
import ember.autograd.forward_ad as efw

with warnings.catch_warnings():   # torch's make_dual imports these on first use, with a DeprecationWarning
    warnings.simplefilter("ignore")
    import torch._decomp.decompositions_for_jvp  # noqa: F401

rng = numpy.random.default_rng(1)
A, B = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
P = numpy.abs(A) + 0.5
M, S = rng.standard_normal((4, 5)), rng.standard_normal((4, 4))
SPD = S @ S.T + 4 * numpy.eye(4)
X4, W4 = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
C = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
LSTM_W = rng.standard_normal((8, 4))
more = numpy.random.default_rng(2)
A2, B2, S2 = more.standard_normal((3, 4)), more.standard_normal((3, 4)), more.standard_normal((4, 4))
SPD2 = S2 @ S2.T + 4 * numpy.eye(4)
X4B, X3 = more.standard_normal((2, 4, 6, 6)), more.standard_normal((2, 4, 7))
FOLD, PRELU_W, CONVT_W = more.standard_normal((2, 16, 9)), more.standard_normal(4), more.standard_normal((4, 3, 3, 3))
GROUPED_W, BILINEAR_W, BATCH3 = (more.standard_normal((4, 2, 3)), more.standard_normal((2, 4, 4)),
                                 more.standard_normal((2, 3, 3)))

CASES = [
    ("sin", lambda L, x: x.sin(), [A]),
    ("exp", lambda L, x: x.exp(), [A]),
    ("log", lambda L, x: x.log(), [P]),
    ("tanh", lambda L, x: L.tanh(x), [A]),
    ("sigmoid", lambda L, x: L.sigmoid(x), [A]),
    ("relu", lambda L, x: L.relu(x), [A]),
    ("pow", lambda L, x, y: x ** y, [P, B]),
    ("pow2", lambda L, x: x ** 2, [A]),
    ("div", lambda L, x, y: x / y, [A, P]),
    ("mul", lambda L, x, y: x * y, [A, B]),
    ("add_bcast", lambda L, x, y: x + y, [A, B[0]]),
    ("sub", lambda L, x, y: x - y, [A, B]),
    ("abs", lambda L, x: x.abs(), [A]),
    ("sqrt", lambda L, x: x.sqrt(), [P]),
    ("clamp", lambda L, x: x.clamp(-0.5, 0.5), [A]),
    ("where", lambda L, x, y: L.where(x > 0, x, y), [A, B]),
    ("maximum", lambda L, x, y: L.maximum(x, y), [A, B]),
    ("atan2", lambda L, x, y: L.atan2(x, y), [A, B]),
    ("erf", lambda L, x: L.erf(x), [A]),
    ("lgamma", lambda L, x: L.lgamma(x), [P]),
    ("sum", lambda L, x: x.sum(), [A]),
    ("sum_dim", lambda L, x: x.sum(1, keepdim=True), [A]),
    ("mean", lambda L, x: x.mean(0), [A]),
    ("prod", lambda L, x: x.prod(1), [A]),
    ("max_dim", lambda L, x: x.max(1), [A]),
    ("amax", lambda L, x: x.amax(0), [A]),
    ("logsumexp", lambda L, x: L.logsumexp(x, 1), [A]),
    ("var", lambda L, x: x.var(1), [A]),
    ("std", lambda L, x: x.std(), [A]),
    ("norm", lambda L, x: x.norm(), [A]),
    ("softmax", lambda L, x: L.softmax(x, 1), [A]),
    ("log_softmax", lambda L, x: L.log_softmax(x, 0), [A]),
    ("cumsum", lambda L, x: x.cumsum(1), [A]),
    ("cumprod", lambda L, x: x.cumprod(1), [A]),
    ("sort", lambda L, x: x.sort(1), [A]),
    ("topk", lambda L, x: x.topk(2, 1), [A]),
    ("median", lambda L, x: x.median(1), [A]),
    ("matmul", lambda L, x, y: x @ y, [A, M]),
    ("mm_one", lambda L, x, y: L.mm(x, y), [A, M]),
    ("bmm", lambda L, x, y: L.bmm(x, y), [X4[0], X4[1]]),
    ("einsum", lambda L, x, y: L.einsum("ij,jk->ik", x, y), [A, M]),
    ("matvec", lambda L, x, y: x @ y, [A, M[:, 0]]),
    ("view", lambda L, x: x.view(12), [A]),
    ("t", lambda L, x: x.t(), [A]),
    ("permute", lambda L, x: x.permute(2, 0, 1, 3), [X4]),
    ("slice", lambda L, x: x[1:, ::2], [A]),
    ("expand", lambda L, x: x[:, :1].expand(3, 5), [A]),
    ("squeeze", lambda L, x: x[None].squeeze(0), [A]),
    ("reshape", lambda L, x: x.t().reshape(12), [A]),
    ("narrow", lambda L, x: x.narrow(1, 1, 2), [A]),
    ("select", lambda L, x: x.select(0, 1), [A]),
    ("chunk", lambda L, x: x.chunk(2, 1), [A]),
    ("unbind", lambda L, x: x.unbind(0), [A]),
    ("diagonal", lambda L, x: x.diagonal(), [S]),
    ("cat", lambda L, x, y: L.cat([x, y], 0), [A, B]),
    ("stack", lambda L, x, y: L.stack([x, y], 1), [A, B]),
    ("index_select", lambda L, x: x.index_select(1, L.tensor([0, 2, 2])), [A]),
    ("gather", lambda L, x: x.gather(1, L.tensor([[0, 1], [2, 2], [3, 0]])), [A]),
    ("adv_index", lambda L, x: x[L.tensor([0, 2]), L.tensor([1, 3])], [A]),
    ("masked_fill", lambda L, x: x.masked_fill(x > 0, 0.0), [A]),
    ("linear", lambda L, x, w, b: L.nn.functional.linear(x, w, b), [A, M.T[:, :4], M[0]]),
    ("conv2d", lambda L, x, w: L.nn.functional.conv2d(x, w, padding=1), [X4, W4]),
    ("conv1d", lambda L, x, w: L.nn.functional.conv1d(x, w, stride=2), [X4[:, :, 0], W4[:, :, 0]]),
    ("max_pool2d", lambda L, x: L.nn.functional.max_pool2d(x, 2), [X4]),
    ("avg_pool2d", lambda L, x: L.nn.functional.avg_pool2d(x, 3, 1, 1), [X4]),
    ("adaptive_avg", lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, 1), [X4]),
    ("batch_norm_train", lambda L, x, w, b: L.nn.functional.batch_norm(x, None, None, w, b, training=True),
     [X4, A[0, :3], B[0, :3]]),
    ("batch_norm_eval",
     lambda L, x, w, b: L.nn.functional.batch_norm(x, L.zeros(3, dtype=L.float64), L.ones(3, dtype=L.float64), w, b,
                                                   training=False),
     [X4, A[0, :3], B[0, :3]]),
    ("layer_norm", lambda L, x, w, b: L.nn.functional.layer_norm(x, (4,), w, b), [A, B[0], B[1]]),
    ("group_norm", lambda L, x: L.nn.functional.group_norm(x, 3), [X4]),
    ("embedding", lambda L, w: L.nn.functional.embedding(L.tensor([1, 0, 2]), w), [A]),
    ("gelu", lambda L, x: L.nn.functional.gelu(x), [A]),
    ("silu", lambda L, x: L.nn.functional.silu(x), [A]),
    ("softplus", lambda L, x: L.nn.functional.softplus(x), [A]),
    ("elu", lambda L, x: L.nn.functional.elu(x), [A]),
    ("leaky_relu", lambda L, x: L.nn.functional.leaky_relu(x, 0.1), [A]),
    ("hardtanh", lambda L, x: L.nn.functional.hardtanh(x), [A]),
    ("interpolate", lambda L, x: L.nn.functional.interpolate(x, scale_factor=2, mode="bilinear"), [X4]),
    ("dropout0", lambda L, x: L.nn.functional.dropout(x, 0.0), [A]),
    ("mse", lambda L, x, y: L.nn.functional.mse_loss(x, y), [A, B]),
    ("l1", lambda L, x, y: L.nn.functional.l1_loss(x, y), [A, B]),
    ("smooth_l1", lambda L, x, y: L.nn.functional.smooth_l1_loss(x, y), [A, B]),
    ("huber", lambda L, x, y: L.nn.functional.huber_loss(x, y), [A, B]),
    ("cross_entropy", lambda L, x: L.nn.functional.cross_entropy(x, L.tensor([0, 3, 1])), [A]),
    ("nll", lambda L, x: L.nn.functional.nll_loss(L.log_softmax(x, 1), L.tensor([0, 3, 1])), [A]),
    ("bce", lambda L, x, y: L.nn.functional.binary_cross_entropy(L.sigmoid(x), L.sigmoid(y)), [A, B]),
    ("bce_logits", lambda L, x, y: L.nn.functional.binary_cross_entropy_with_logits(x, L.sigmoid(y)), [A, B]),
    ("kl_div", lambda L, x, y: L.nn.functional.kl_div(L.log_softmax(x, 1), L.softmax(y, 1), reduction="batchmean"),
     [A, B]),
    ("inv", lambda L, x: L.linalg.inv(x), [SPD]),
    ("det", lambda L, x: L.linalg.det(x), [S]),
    ("solve", lambda L, x, y: L.linalg.solve(x, y), [SPD, M]),
    ("eigh_vals", lambda L, x: L.linalg.eigvalsh(x), [SPD]),
    ("svdvals", lambda L, x: L.linalg.svdvals(x), [A]),
    ("qr_r", lambda L, x: L.linalg.qr(x)[1], [M.T]),
    ("c_abs", lambda L, x: x.abs(), [C]),
    ("c_mul", lambda L, x, y: x * y, [C, C.conj()]),
    ("c_exp", lambda L, x: x.exp(), [C]),
    ("c_sin", lambda L, x: x.sin(), [C]),
    ("c_sqrt", lambda L, x: x.sqrt(), [C]),
    ("c_pow", lambda L, x: x ** 3, [C]),
    ("c_real", lambda L, x: x.real, [C]),
    ("c_view_as_real", lambda L, x: L.view_as_real(x), [C]),
    ("c_angle", lambda L, x: x.angle(), [C]),
    ("c_conj", lambda L, x: x.conj() * 1, [C]),
    ("c_matmul", lambda L, x, y: x @ y, [C, C.T.copy()]),
    ("c_sum", lambda L, x: (x * x).sum(), [C]),
    ("to_f32", lambda L, x: x.float(), [A]),
    ("clone", lambda L, x: x.clone(), [A]),
    ("contiguous", lambda L, x: x.t().contiguous(), [A]),
    ("flip", lambda L, x: x.flip(0), [A]),
    ("roll", lambda L, x: x.roll(1, 1), [A]),
    ("repeat", lambda L, x: x.repeat(2, 1), [A]),
    ("tril", lambda L, x: x.tril(), [S]),
    ("pad", lambda L, x: L.nn.functional.pad(x, (1, 2)), [A]),
    ("trace", lambda L, x: x.trace(), [S]),
    ("fft", lambda L, x: L.fft.rfft(x).abs(), [A]),
    ("lstm_cell", lambda L, x, w: L.lstm_cell(x, (x[:, :2] * 1, x[:, :2] * 1), w, w[:, :2] * 1),
     [A[:, :4], LSTM_W]),
    ("svd_S", lambda L, x: L.linalg.svd(x, full_matrices=False)[1], [A2]),
    ("svd_recon", lambda L, x: (lambda u, s, vh: (u * s) @ vh)(*L.linalg.svd(x, full_matrices=False)), [A2]),
    ("eigh_vals", lambda L, x: L.linalg.eigh(x)[0], [SPD2]),
    ("qr_q", lambda L, x: L.linalg.qr(x)[0], [S2]),
    ("pinv", lambda L, x: L.linalg.pinv(x), [A2]),
    ("matrix_exp", lambda L, x: L.linalg.matrix_exp(x * 0.3), [S2]),
    ("slogdet", lambda L, x: L.linalg.slogdet(x)[1], [S2]),
    ("lstsq", lambda L, x, y: L.linalg.lstsq(x, y).solution, [SPD2, A2.T.copy()]),
    ("lu_solve", lambda L, x, y: L.linalg.solve(x, y, left=False), [SPD2, A2]),
    ("matrix_norm", lambda L, x: L.linalg.matrix_norm(x, "nuc"), [A2]),
    ("vector_norm3", lambda L, x: L.linalg.vector_norm(x, 3, dim=1), [A2]),
    ("unfold", lambda L, x: L.nn.functional.unfold(x, 3, padding=1), [X4B]),
    ("fold", lambda L, x: L.nn.functional.fold(x, (4, 4), 2), [FOLD]),
    ("pixel_shuffle", lambda L, x: L.nn.functional.pixel_shuffle(x, 2), [X4B]),
    ("instance_norm", lambda L, x: L.nn.functional.instance_norm(x), [X4B]),
    ("lrn", lambda L, x: L.nn.functional.local_response_norm(x, 3), [X4B]),
    ("cosine_sim", lambda L, x, y: L.nn.functional.cosine_similarity(x, y), [A2, B2]),
    ("pairwise", lambda L, x, y: L.nn.functional.pairwise_distance(x, y), [A2, B2]),
    ("triplet", lambda L, x, y: L.nn.functional.triplet_margin_loss(x, y, x.flip(0)), [A2, B2]),
    ("poisson_nll", lambda L, x, y: L.nn.functional.poisson_nll_loss(x, y.abs()), [A2, B2]),
    ("gaussian_nll", lambda L, x, y: L.nn.functional.gaussian_nll_loss(x, y, x.abs() + 1), [A2, B2]),
    ("margin_rank", lambda L, x, y: L.nn.functional.margin_ranking_loss(x, y, L.ones(3, 4, dtype=L.float64)), [A2, B2]),
    ("ml_soft_margin", lambda L, x: L.nn.functional.multilabel_soft_margin_loss(x, L.ones(3, 4, dtype=L.float64)),
     [A2]),
    ("soft_margin", lambda L, x: L.nn.functional.soft_margin_loss(x, L.ones(3, 4, dtype=L.float64)), [A2]),
    ("nll2d", lambda L, x: L.nn.functional.nll_loss(L.log_softmax(x, 1), L.zeros(2, 6, 6, dtype=L.long)), [X4B]),
    ("adaptive_max", lambda L, x: L.nn.functional.adaptive_max_pool2d(x, 2), [X4B]),
    ("lp_pool", lambda L, x: L.nn.functional.lp_pool2d(x.abs() + 0.1, 2, 2), [X4B]),
    ("nearest", lambda L, x: L.nn.functional.interpolate(x, scale_factor=2), [X4B]),
    ("bicubic", lambda L, x: L.nn.functional.interpolate(x, size=(9, 9), mode="bicubic"), [X4B]),
    ("prelu", lambda L, x, w: L.nn.functional.prelu(x, w), [X4B, PRELU_W]),
    ("glu", lambda L, x: L.nn.functional.glu(x, 1), [A2]),
    ("activations", lambda L, x: tuple(getattr(L.nn.functional, name)(x) for name in (
        "logsigmoid", "softsign", "tanhshrink", "celu", "selu", "mish", "hardswish", "hardsigmoid")), [A2]),
    ("softmin", lambda L, x: L.nn.functional.softmin(x, 1), [A2]),
    ("conv_t", lambda L, x, w: L.nn.functional.conv_transpose2d(x, w, stride=2), [X4B, CONVT_W]),
    ("grouped_conv1d", lambda L, x, w: L.nn.functional.conv1d(x, w, groups=2), [X3, GROUPED_W]),
    ("avg1d", lambda L, x: L.nn.functional.avg_pool1d(x, 3), [X3]),
    ("max1d", lambda L, x: L.nn.functional.max_pool1d(x, 2), [X3]),
    ("bilinear", lambda L, x, y, w: L.nn.functional.bilinear(x, y, w), [A2, B2, BILINEAR_W]),
    ("std_mean", lambda L, x: L.std_mean(x, 1), [A2]),
    ("var_mean", lambda L, x: L.var_mean(x, 0), [A2]),
    ("kthvalue", lambda L, x: L.kthvalue(x, 2, 1), [A2]),
    ("cummax", lambda L, x: L.cummax(x, 1), [A2]),
    ("logcumsumexp", lambda L, x: L.logcumsumexp(x, 1), [A2]),
    ("nansum", lambda L, x: L.nansum(x), [A2]),
    ("diff", lambda L, x: L.diff(x, dim=1), [A2]),
    ("kron", lambda L, x, y: L.kron(x, y), [A2[:2, :2], B2[:2, :2]]),
    ("outer", lambda L, x, y: L.outer(x, y), [A2[0], B2[1]]),
    ("cross", lambda L, x, y: L.linalg.cross(x, y), [A2[:, :3], B2[:, :3]]),
    ("addmm", lambda L, c, x, y: L.addmm(c, x, y), [A2, A2, S2]),
    ("baddbmm", lambda L, x: L.baddbmm(x, x, x.transpose(1, 2)), [BATCH3]),
    ("tensordot", lambda L, x, y: L.tensordot(x, y, 1), [A2, S2]),
    ("trapz", lambda L, x: L.trapezoid(x), [A2]),
    ("heaviside_mask", lambda L, x: x * (x > 0), [A2]),
    ("sign", lambda L, x: x.sign() * x, [A2]),
    ("lerp", lambda L, x, y: L.lerp(x, y, 0.3), [A2, B2]),
    ("addcmul", lambda L, x, y: L.addcmul(x, x, y, value=0.5), [A2, B2]),
    ("hypot", lambda L, x, y: L.hypot(x, y), [A2, B2]),
    ("logaddexp", lambda L, x, y: L.logaddexp(x, y), [A2, B2]),
    ("xlogy", lambda L, x, y: L.xlogy(x, y.abs() + 0.1), [A2, B2]),
    ("fmod", lambda L, x: L.fmod(x, 0.7), [A2]),
    ("polygamma", lambda L, x: L.polygamma(1, x.abs() + 0.5), [A2]),
    ("digamma", lambda L, x: L.digamma(x.abs() + 0.5), [A2]),
    ("erfinv", lambda L, x: L.erfinv(x.tanh() * 0.9), [A2]),
    ("sinc", lambda L, x: L.sinc(x), [A2]),
    ("logit", lambda L, x: L.logit(x.sigmoid()), [A2]),
    ("expm1_log1p", lambda L, x: L.log1p(L.expm1(x).abs()), [A2]),
    ("complex_polar", lambda L, x, y: L.view_as_real(L.polar(x.abs() + 0.1, y)), [A2, B2]),
    ("c_fft", lambda L, x: L.view_as_real(L.fft.fft(x)), [A2]),
    ("irfft", lambda L, x: L.fft.irfft(L.fft.rfft(x) * 2), [A2]),
    ("stft_like", lambda L, x: L.fft.fft2(x).abs(), [A2]),
    ("roll_unfold", lambda L, x: x.unfold(1, 2, 1).sum(-1), [A2]),
    ("movedim", lambda L, x: L.movedim(x, 0, 1) * 1, [A2]),
    ("take_along", lambda L, x: L.take_along_dim(x, L.tensor([[0], [1], [3]]), 1), [A2]),
    ("scatter_add", lambda L, x, y: x.scatter_add(1, L.tensor([[0, 1], [1, 2], [3, 3]]), y[:, :2]), [A2, B2]),
    ("index_put", lambda L, x, y: x.index_put((L.tensor([0, 2]),), y[:2]), [A2, B2]),
    ("masked_scatter", lambda L, x, y: x.masked_scatter(x > 0, y), [A2, B2]),
    ("where_scalar", lambda L, x: L.where(x > 0, x, 0.5), [A2]),
    ("clamp_tensor", lambda L, x, y: x.clamp(min=y), [A2, B2]),
    ("block_diag", lambda L, x, y: L.block_diag(x, y), [A2, B2]),
    ("cdist_p1", lambda L, x: (x - x.flip(0)).abs().sum(), [A2]),
]


def tangents_for(arrays, seed=0):
    generator = numpy.random.default_rng(seed)
    return [generator.standard_normal(a.shape) + (1j * generator.standard_normal(a.shape) if a.dtype.kind == "c"
                                                  else 0) for a in arrays]


def run(lib, fw, call, arrays, tangents):
    """Primal and tangent arrays of each output of ``call(lib, *duals)`` (tangent None where there is none)."""
    with fw.dual_level():
        duals = [fw.make_dual(lib.tensor(a), lib.tensor(t)) for a, t in zip(arrays, tangents)]
        out = call(lib, *duals)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        results = []
        for o in outs:
            primal, tangent = fw.unpack_dual(o)
            results.append((primal.detach().numpy().copy(), None if tangent is None else tangent.detach().numpy()))
        return results


@pytest.mark.parametrize("name, call, arrays", CASES, ids=[case[0] if isinstance(case, tuple) else case.id
                                                           for case in CASES])
def test_tangents_match_torch(name, call, arrays):
    tangents = tangents_for(arrays)
    expected = run(torch, tfw, call, arrays, tangents)
    got = run(ember, efw, call, arrays, tangents)
    assert len(got) == len(expected)
    for (primal, tangent), (want_primal, want_tangent) in zip(got, expected):
        numpy.testing.assert_allclose(primal, want_primal, rtol=1e-6, atol=1e-9)
        assert (tangent is None) == (want_tangent is None)
        if want_tangent is not None:
            assert tangent.shape == want_tangent.shape
            numpy.testing.assert_allclose(tangent, want_tangent, rtol=1e-6, atol=1e-9)


def test_cholesky_along_a_symmetric_tangent():
    tangent = rng.standard_normal((4, 4))
    tangent = tangent + tangent.T
    call = lambda lib, x: lib.linalg.cholesky(x)  # noqa: E731
    (_, got), = run(ember, efw, call, [SPD], [tangent])
    (_, want), = run(torch, tfw, call, [SPD], [tangent])
    numpy.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("call, arrays", [
    (lambda lib, q: lib.nn.functional.scaled_dot_product_attention(q, q, q), [X4[0]]),
    (lambda lib, x: lib.special.i0(x) * lib.special.entr(lib.sigmoid(x)), [A]),
], ids=["scaled_dot_product_attention", "special"])
def test_tangents_match_central_differences(call, arrays):
    """Ops whose tangents are compared with central differences: the tangent is the directional derivative."""
    tangents = tangents_for(arrays)
    (_, got), = run(ember, efw, call, arrays, tangents)
    eps = 1e-6
    plus = call(ember, *[ember.tensor(a + eps * t) for a, t in zip(arrays, tangents)]).numpy()
    minus = call(ember, *[ember.tensor(a - eps * t) for a, t in zip(arrays, tangents)]).numpy()
    numpy.testing.assert_allclose(got, (plus - minus) / (2 * eps), rtol=1e-5, atol=1e-7)


def _error(lib, fw, call, arrays):
    with fw.dual_level():
        duals = [fw.make_dual(lib.tensor(a), lib.tensor(t)) for a, t in zip(arrays, tangents_for(arrays))]
        with pytest.raises(Exception) as caught:
            call(lib, *duals)
    return type(caught.value).__name__, str(caught.value)


@pytest.mark.parametrize("call, arrays", [
    (lambda lib, x, y: lib.cdist(x, y), [A, B]),
    (lambda lib, x, y: lib.cdist(x.repeat(10, 1), y), [A, B]),
    (lambda lib, x: lib.nn.functional.pdist(x), [A]),
    (lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([0, 2, 1, 1]), w, lib.tensor([0, 2])), [A]),
    (lambda lib, x: lib.unique(x), [A]),
    (lambda lib, x: lib.unique(x, dim=0), [A]),
    (lambda lib, x: lib.unique_consecutive(x), [A]),
    (lambda lib, x: lib.nn.functional.multi_margin_loss(x, lib.tensor([0, 1, 2])), [A]),
    (lambda lib, x: lib.nn.functional.multilabel_margin_loss(x, lib.zeros(3, 4, dtype=lib.long)), [A]),
    (lambda lib, x: lib.nn.functional.grid_sample(x[None, None], lib.zeros(1, 2, 2, 2), align_corners=False), [A]),
    (lambda lib, x: lib.special.gammainc(lib.ones(3, 4), x.abs() + 1), [A]),
    (lambda lib, x: lib.special.zeta(x.abs() + 2, 1.0), [A]),
    (lambda lib, x: lib.bincount(lib.tensor([0, 1]), x[0, :2]), [A]),
    (lambda lib, x: lib.histogram(x.reshape(-1)), [A]),
    (lambda lib, x: lib.geqrf(x), [A]),
    (lambda lib, x: lib.zeros(3, 4, dtype=x.dtype).index_reduce(0, lib.tensor([0, 0, 1]), x, "prod"), [A]),
    (lambda lib, x: lib.conv_tbc(x[None], lib.ones(1, 4, 2, dtype=x.dtype), lib.zeros(2, dtype=x.dtype)), [A]),
], ids=["cdist", "cdist_mm", "pdist", "embedding_bag", "unique", "unique_dim", "unique_consecutive",
        "multi_margin_loss", "multilabel_margin_loss", "grid_sample", "igamma", "zeta", "bincount", "histogram",
        "geqrf", "index_reduce", "conv_tbc"])
def test_ops_without_forward_derivative_refuse_as_torch(call, arrays):
    """Ops PyTorch has no forward derivative for raise its NotImplementedError (type and message) on a dual input."""
    assert _error(ember, efw, call, arrays) == _error(torch, tfw, call, arrays)


@pytest.mark.parametrize("primal, tangent, op", [
    *[("float32", "float64", op) for op in ("mul", "exp", "sq", "add_tensor", "relu", "view",
                                            "select")],
    *[(primal, tangent, op) for primal, tangent in (("float64", "float32"), ("float32", "float16"))
      for op in ("mul", "exp", "sq", "relu", "view", "select")],
])
def test_tangent_dtype_as_torch(primal, tangent, op):
    """A tangent of another float dtype than its primal: the output tangents' dtypes are PyTorch's (a float64 tangent
    of a float32 primal stays float64; results of ops whose derivative reads a primal take the wider dtype)."""
    calls = {"mul": lambda lib, d: d * 2, "exp": lambda lib, d: d.exp(), "sq": lambda lib, d: d * d,
             "add_tensor": lambda lib, d: d + lib.ones(4, dtype=d.dtype), "relu": lambda lib, d: d.relu(),
             "matmul_weight": lambda lib, d: lib.ones(2, 3, dtype=d.dtype) @ d, "view": lambda lib, d: d.view(12),
             "select": lambda lib, d: d[0]}
    results = []
    for lib, fw in ((torch, tfw), (ember, efw)):
        with fw.dual_level():
            dual = fw.make_dual(lib.tensor(A, dtype=getattr(lib, primal)), lib.tensor(B, dtype=getattr(lib, tangent)))
            out = fw.unpack_dual(calls[op](lib, dual)).tangent
            results.append((str(out.dtype).split(".")[-1], out.double().numpy()))
    assert results[1][0] == results[0][0]
    numpy.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("op", ["mul_scalar", "mul_tensor", "matmul", "linear", "sin", "add", "neg", "mean", "select",
                                "sum", "clone"])
def test_tangent_requires_grad_as_torch(op):
    """Tangents of outputs whose formula reads a primal that requires grad join the graph (PyTorch's products
    reference the other factor, so their tangents require grad even where the value does not depend on it); linear
    ops' tangents do not; gradients through them agree."""
    calls = {"mul_scalar": lambda lib, d, q: d * 2, "mul_tensor": lambda lib, d, q: d * q,
             "matmul": lambda lib, d, q: q.T @ d, "linear": lambda lib, d, q: lib.nn.functional.linear(q, d),
             "sin": lambda lib, d, q: d.sin(), "add": lambda lib, d, q: d + q, "neg": lambda lib, d, q: -d,
             "mean": lambda lib, d, q: d.mean(), "select": lambda lib, d, q: d[0], "sum": lambda lib, d, q: d.sum(),
             "clone": lambda lib, d, q: d.clone()}
    results, names = [], []
    for lib, fw in ((torch, tfw), (ember, efw)):
        weight = lib.tensor(A, requires_grad=True)
        with fw.dual_level():
            out = calls[op](lib, fw.make_dual(weight, lib.tensor(B)), lib.tensor(B))
            tangent = fw.unpack_dual(out).tangent
            names.append(None if tangent.grad_fn is None or "Reconnect" in tangent.grad_fn.name() else
                         tangent.grad_fn.name())
            grad = lib.autograd.grad(tangent.sum(), weight)[0] if tangent.requires_grad else None
            grad = None if grad is None else (grad.numpy(force=True) if lib is torch else grad.numpy())
            results.append((tangent.requires_grad, tangent.detach().numpy(), grad))
    assert results[1][0] == results[0][0]
    if op in ("mul_scalar", "mul_tensor", "matmul", "linear"):   # products' tangent nodes are named as PyTorch's
        assert names[1] == names[0]
    numpy.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-6, atol=1e-9)
    if results[0][2] is not None:
        numpy.testing.assert_allclose(results[1][2], results[0][2], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 2, 3, 4), (1, 1, 2, 3, 4)], ids=["3d", "4d", "5d"])
def test_attention_forward_ad_as_torch(shape):
    """4-d CPU attention runs PyTorch's flash kernel, which has no forward derivative: its error; other ranks have
    tangents."""
    arrays = [numpy.linspace(-1, 1, int(numpy.prod(shape))).reshape(shape)]
    call = lambda lib, q: lib.nn.functional.scaled_dot_product_attention(q, q, q)  # noqa: E731
    if len(shape) == 4:
        assert _error(ember, efw, call, arrays) == _error(torch, tfw, call, arrays)
        return
    tangents = tangents_for(arrays)
    (_, got), = run(ember, efw, call, arrays, tangents)
    (_, want), = run(torch, tfw, call, arrays, tangents)
    numpy.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
