"""Every op of PyTorch's CPU autocast lists that ember has, and a sample of unlisted ops, run under
``autocast("cpu", bfloat16)`` and ``autocast("cpu", float16)`` in ember and in PyTorch 2.13: same output dtypes,
values within half-precision tolerance, float32 gradients for float32 leaves."""
import warnings

import numpy as np
import pytest

import ember
from ember.amp import policy
from ember.autograd.function import registry

torch = pytest.importorskip("torch")

SHAPES = {"signal": (2, 32), 
    "x": (3, 4), "w": (5, 4), "b": (5,), "m": (4, 5), "mb": (2, 3, 4), "nb": (2, 4, 5), "c": (3, 5),
    "x1": (2, 3, 8), "w1": (4, 3, 3), "x2": (2, 3, 6, 6), "w2": (4, 3, 3, 3), "x3": (1, 2, 4, 4, 4),
    "w3": (3, 2, 2, 2, 2), "wt1": (3, 4, 3), "wt2": (3, 4, 3, 3), "wt3": (2, 3, 2, 2, 2), "v": (4,), "u": (4,),
    "q": (2, 3, 5, 8), "k": (2, 3, 7, 8), "val": (2, 3, 7, 8), "a": (1,), "sq": (4, 4), "rhs": (4, 2),
    "logits": (6, 5), "prob": (6,), "y": (6,), "img": (1, 2, 5, 5), "grid": (1, 3, 3, 2), "p3": (1, 2, 3, 4),
}


pytestmark = [pytest.mark.filterwarnings("ignore:torch.triangular_solve is deprecated:UserWarning"),
              pytest.mark.filterwarnings("ignore:torch.lu_solve is deprecated:UserWarning")]


def _inputs(seed):
    rng = np.random.default_rng(seed)
    arrays = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in SHAPES.items()}
    arrays["prob"] = rng.uniform(0.05, 0.95, SHAPES["prob"]).astype(np.float32)
    arrays["y"] = (arrays["y"] > 0).astype(np.float32)
    arrays["sign"] = np.where(rng.standard_normal(6) > 0, 1.0, -1.0).astype(np.float32)
    arrays["target"] = rng.integers(0, 5, 6)
    arrays["index"] = np.array([2, 0])
    spd = rng.standard_normal((4, 4)).astype(np.float32)
    arrays["spd"] = (spd @ spd.T + 4 * np.eye(4)).astype(np.float32)
    arrays["pair"] = rng.standard_normal((3, 2)).astype(np.float32)
    arrays["log_probs"] = rng.standard_normal((7, 2, 4)).astype(np.float32)
    arrays["targets"] = rng.integers(1, 4, (2, 3))
    arrays["multilabel"] = np.array([[3, 0, -1, 1, 2], [1, 2, 4, -1, 0], [0, -1, 1, 1, 1]])
    return arrays


# (name, call, the inputs given in the autocast dtype, compare values): each call gets (T, F, i) where T is ember or
# torch, F its nn.functional and i(name) the named input in that library. Inputs are float32 unless listed as 16-bit,
# so that every policy has something to cast.
LOWER = [
    ("conv1d", lambda T, F, i: F.conv1d(i("x1"), i("w1"), padding=1), ()),
    ("conv2d", lambda T, F, i: F.conv2d(i("x2"), i("w2"), stride=2), ()),
    ("conv3d", lambda T, F, i: F.conv3d(i("x3"), i("w3")), ()),
    ("conv_transpose1d", lambda T, F, i: F.conv_transpose1d(i("x1"), i("wt1")), ()),
    ("conv_transpose2d", lambda T, F, i: F.conv_transpose2d(i("x2"), i("wt2"), stride=2), ()),
    ("conv_transpose3d", lambda T, F, i: F.conv_transpose3d(i("x3"), i("wt3")), ()),
    ("bmm", lambda T, F, i: T.bmm(i("mb"), i("nb")), ()),
    ("mm", lambda T, F, i: T.mm(i("x"), i("m")), ()),
    ("linalg_vecdot", lambda T, F, i: T.linalg.vecdot(i("x"), i("x")), ()),
    ("baddbmm", lambda T, F, i: T.baddbmm(i("c"), i("mb"), i("nb")), ()),
    ("addmm", lambda T, F, i: T.addmm(i("c"), i("x"), i("m")), ()),
    ("addbmm", lambda T, F, i: T.addbmm(i("c"), i("mb"), i("nb"), alpha=0.5), ()),
    ("linear", lambda T, F, i: F.linear(i("x"), i("w"), i("b")), ()),
    ("matmul", lambda T, F, i: T.matmul(i("mb"), i("m")), ()),
    ("matmul (@)", lambda T, F, i: i("x") @ i("m"), ()),
    ("matmul (method)", lambda T, F, i: i("v").matmul(i("u")), ()),
    ("prelu", lambda T, F, i: F.prelu(i("x2"), i("a")), ()),
    ("scaled_dot_product_attention", lambda T, F, i: F.scaled_dot_product_attention(i("q"), i("k"), i("val")), ()),
    ("einsum (contraction: bmm)", lambda T, F, i: T.einsum("ij,jk->ik", i("x"), i("m")), ()),
    ("einsum (implicit output)", lambda T, F, i: T.einsum("bij,bjk", i("mb"), i("nb")), ()),
    ("tensordot (mm)", lambda T, F, i: T.tensordot(i("x"), i("m"), 1), ()),
    ("chain_matmul (mm)", lambda T, F, i: T.linalg.multi_dot([i("x"), i("m"), i("c").t()]), ()),
    ("linalg_matrix_power (mm)", lambda T, F, i: T.linalg.matrix_power(i("sq") * 0.3, 3), ()),
    ("inner (mm)", lambda T, F, i: T.inner(i("x"), i("c")[:, :4]), ()),
    ("linalg_matmul", lambda T, F, i: T.linalg.matmul(i("x"), i("m")), ()),
    ("mixed 16-bit input", lambda T, F, i: T.mm(i("x"), i("m")), ("x",)),
]

FP32 = [
    ("avg_pool3d", lambda T, F, i: F.avg_pool3d(i("x3"), 2), ("x3",)),
    ("binary_cross_entropy", lambda T, F, i: F.binary_cross_entropy(i("prob"), i("y")), ("prob",)),
    ("grid_sampler", lambda T, F, i: F.grid_sample(i("img"), i("grid").tanh(), align_corners=False), ("img",)),
    ("polar", lambda T, F, i: T.polar(i("v").abs(), i("u")), ("v", "u")),
    ("prod", lambda T, F, i: T.prod(i("x"), 1), ("x",)),
    ("quantile", lambda T, F, i: T.quantile(i("x"), 0.3, dim=1), ("x",)),
    ("nanquantile", lambda T, F, i: T.nanquantile(i("x"), 0.7), ("x",)),
    ("cdist", lambda T, F, i: T.cdist(i("x"), i("w")), ("x", "w")),
    ("trace", lambda T, F, i: T.trace(i("sq")), ("sq",)),
    ("stft", lambda T, F, i: T.view_as_real(T.stft(i("signal"), 8, window=T.hann_window(8), return_complex=True)),
     ("signal",)),
    ("view_as_complex", lambda T, F, i: T.view_as_complex(i("pair")), ("pair",)),
    ("fft_fft", lambda T, F, i: T.view_as_real(T.fft.fft(i("signal")).resolve_conj()), ("signal",)),
    ("fft_ifft", lambda T, F, i: T.view_as_real(T.fft.ifft(i("signal")).resolve_conj()), ("signal",)),
    ("fft_fft2", lambda T, F, i: T.view_as_real(T.fft.fft2(i("signal")).resolve_conj()), ("signal",)),
    ("fft_ifft2", lambda T, F, i: T.view_as_real(T.fft.ifft2(i("signal")).resolve_conj()), ("signal",)),
    ("fft_fftn", lambda T, F, i: T.view_as_real(T.fft.fftn(i("signal")).resolve_conj()), ("signal",)),
    ("fft_ifftn", lambda T, F, i: T.view_as_real(T.fft.ifftn(i("signal")).resolve_conj()), ("signal",)),
    ("fft_rfft", lambda T, F, i: T.view_as_real(T.fft.rfft(i("signal")).resolve_conj()), ("signal",)),
    ("fft_irfft", lambda T, F, i: T.fft.irfft(i("signal")), ("signal",)),
    ("fft_rfft2", lambda T, F, i: T.view_as_real(T.fft.rfft2(i("signal")).resolve_conj()), ("signal",)),
    ("fft_irfft2", lambda T, F, i: T.fft.irfft2(i("signal")), ("signal",)),
    ("fft_rfftn", lambda T, F, i: T.view_as_real(T.fft.rfftn(i("signal")).resolve_conj()), ("signal",)),
    ("fft_irfftn", lambda T, F, i: T.fft.irfftn(i("signal")), ("signal",)),
    ("fft_hfft", lambda T, F, i: T.fft.hfft(i("signal")), ("signal",)),
    ("fft_ihfft", lambda T, F, i: T.view_as_real(T.fft.ihfft(i("signal")).resolve_conj()), ("signal",)),
    ("cholesky", lambda T, F, i: T.linalg.cholesky(i("spd")), ("spd",)),
    ("cholesky_inverse", lambda T, F, i: T.cholesky_inverse(T.linalg.cholesky(i("spd"))), ("spd",)),
    ("cholesky_solve", lambda T, F, i: T.cholesky_solve(i("rhs"), T.linalg.cholesky(i("spd"))), ("rhs", "spd")),
    ("inverse", lambda T, F, i: T.inverse(i("spd")), ("spd",)),
    ("lu_solve", lambda T, F, i: T.lu_solve(i("rhs"), *T.linalg.lu_factor(i("spd"))), ("rhs",)),
    ("triangular_solve", lambda T, F, i: T.triangular_solve(i("rhs"), i("spd").triu()).solution, ("rhs", "spd")),
    ("dist", lambda T, F, i: T.dist(i("x"), i("x") * 2, 3), ("x",)),
    ("renorm", lambda T, F, i: T.renorm(i("x"), 2, 0, 1.0), ("x",)),
    ("pinverse", lambda T, F, i: T.pinverse(i("x")), ("x",)),
    ("max_pool3d", lambda T, F, i: F.max_pool3d(i("x3"), 2), ("x3",)),
    ("max_unpool2d", lambda T, F, i: F.max_unpool2d(*F.max_pool2d(i("img")[..., :4, :4], 2, return_indices=True), 2), ("img",)),
    ("max_unpool3d", lambda T, F, i: F.max_unpool3d(*F.max_pool3d(i("x3"), 2, return_indices=True), 2), ("x3",)),
    ("adaptive_avg_pool3d", lambda T, F, i: F.adaptive_avg_pool3d(i("x3"), 2), ("x3",)),
    ("adaptive_max_pool3d", lambda T, F, i: F.adaptive_max_pool3d(i("x3"), 2), ("x3",)),
    ("reflection_pad1d", lambda T, F, i: F.pad(i("x1"), (2, 1), mode="reflect"), ("x1",)),
    ("reflection_pad2d", lambda T, F, i: F.pad(i("img"), (1, 1, 2, 0), mode="reflect"), ("img",)),
    ("replication_pad1d", lambda T, F, i: F.pad(i("x1"), (2, 1), mode="replicate"), ("x1",)),
    ("replication_pad2d", lambda T, F, i: F.pad(i("img"), (1, 1, 2, 0), mode="replicate"), ("img",)),
    ("replication_pad3d", lambda T, F, i: F.pad(i("x3"), (1, 0, 1, 0, 0, 1), mode="replicate"), ("x3",)),
    ("mse_loss", lambda T, F, i: F.mse_loss(i("x"), i("c")[:, :4]), ("x",)),
    ("cosine_embedding_loss", lambda T, F, i: F.cosine_embedding_loss(i("logits"), i("logits") * 0.5 + 0.1,
                                                                       i("sign")), ("logits",)),
    ("nll_loss", lambda T, F, i: F.nll_loss(i("logits"), i("target")), ("logits",)),
    ("nll_loss2d", lambda T, F, i: F.nll_loss(i("x3")[:, :, 0], T.zeros(1, 4, 4, dtype=T.long)), ("x3",)),
    ("hinge_embedding_loss", lambda T, F, i: F.hinge_embedding_loss(i("prob"), i("sign")), ("prob",)),
    ("poisson_nll_loss", lambda T, F, i: F.poisson_nll_loss(i("prob"), i("y")), ("prob",)),
    ("smooth_l1_loss", lambda T, F, i: F.smooth_l1_loss(i("x"), i("c")[:, :4]), ("x",)),
    ("cross_entropy_loss", lambda T, F, i: F.cross_entropy(i("logits"), i("target")), ("logits",)),
    ("l1_loss", lambda T, F, i: F.l1_loss(i("x"), i("c")[:, 1:]), ("x",)),
    ("huber_loss", lambda T, F, i: F.huber_loss(i("x"), i("c")[:, 1:], delta=0.5), ("x",)),
    ("margin_ranking_loss", lambda T, F, i: F.margin_ranking_loss(i("prob"), i("y"), i("sign")), ("prob",)),
    ("soft_margin_loss", lambda T, F, i: F.soft_margin_loss(i("prob"), i("sign")), ("prob",)),
    ("triplet_margin_loss", lambda T, F, i: F.triplet_margin_loss(i("x"), i("c")[:, :4], i("w")[:3]), ("x",)),
    ("multi_margin_loss", lambda T, F, i: F.multi_margin_loss(i("logits"), i("target")), ("logits",)),
    ("ctc_loss", lambda T, F, i: F.ctc_loss(i("log_probs").log_softmax(2), i("targets"), (7, 6), (3, 2)),
     ("log_probs",)),
    ("kl_div", lambda T, F, i: F.kl_div(i("logits").log_softmax(1), i("logits").softmax(1), reduction="batchmean"),
     ("logits",)),
    ("multilabel_margin_loss", lambda T, F, i: F.multilabel_margin_loss(i("c"), i("multilabel")), ("c",)),
    ("binary_cross_entropy_with_logits", lambda T, F, i: F.binary_cross_entropy_with_logits(i("prob"), i("y")),
     ("prob",)),
    ("linalg_cond", lambda T, F, i: T.linalg.cond(i("spd")), ("spd",)),
    ("linalg_matrix_rank", lambda T, F, i: T.linalg.matrix_rank(i("spd")), ("spd",)),
    ("linalg_solve", lambda T, F, i: T.linalg.solve(i("spd"), i("rhs")), ("spd", "rhs")),
    ("linalg_cholesky", lambda T, F, i: T.linalg.cholesky(i("spd")), ("spd",)),
    ("linalg_svdvals", lambda T, F, i: T.linalg.svdvals(i("x")), ("x",)),
    ("linalg_eigvals", lambda T, F, i: T.linalg.eigvals(i("spd")), ("spd",)),
    ("linalg_eigvalsh", lambda T, F, i: T.linalg.eigvalsh(i("spd")), ("spd",)),
    ("linalg_inv", lambda T, F, i: T.linalg.inv(i("spd")), ("spd",)),
    ("qr", lambda T, F, i: T.qr(i("x"))[1].abs(), ("x",)),
    ("svd", lambda T, F, i: T.svd(i("x"))[1], ("x",)),
    ("linalg_qr", lambda T, F, i: T.linalg.qr(i("x")).R.abs(), ("x",)),
    ("linalg_cholesky_ex", lambda T, F, i: T.linalg.cholesky_ex(i("spd")).L, ("spd",)),
    ("linalg_svd", lambda T, F, i: T.linalg.svd(i("x")).S, ("x",)),
    ("linalg_eig", lambda T, F, i: T.linalg.eig(i("spd"))[0], ("spd",)),
    ("linalg_eigh", lambda T, F, i: T.linalg.eigh(i("spd"))[0], ("spd",)),
    ("linalg_lstsq", lambda T, F, i: T.linalg.lstsq(i("spd"), i("rhs")).solution, ("spd", "rhs")),
    ("linalg_inv_ex", lambda T, F, i: T.linalg.inv_ex(i("spd")).inverse, ("spd",)),
    ("linalg_tensorinv", lambda T, F, i: T.linalg.tensorinv(i("spd"), ind=1), ("spd",)),
    ("linalg_tensorsolve", lambda T, F, i: T.linalg.tensorsolve(i("spd"), i("spd")[0]), ("spd",)),
    ("geqrf", lambda T, F, i: T.geqrf(i("x")).a, ("x",)),
    ("orgqr", lambda T, F, i: T.orgqr(i("pair"), i("a")), ("pair", "a")),
    ("linalg_householder_product", lambda T, F, i: T.linalg.householder_product(i("pair"), i("a")), ("pair", "a")),
    ("ormqr", lambda T, F, i: T.ormqr(i("pair"), i("pair")[0], i("c"), transpose=True), ("pair", "c")),
    ("fake_quantize_per_tensor_affine", lambda T, F, i: T.fake_quantize_per_tensor_affine(i("x"), 0.1, 0, 0, 255),
     ("x",)),
]

PROMOTE = [
    ("cat", lambda T, F, i: T.cat([i("x"), i("c")[:, :4]]), ("x",)),
    ("cat (all 16-bit)", lambda T, F, i: T.cat([i("x"), i("c")[:, :4]]), ("x", "c")),
    ("stack", lambda T, F, i: T.stack([i("x"), i("c")[:, :4]], 1), ("c",)),
    ("index_copy", lambda T, F, i: T.index_copy(i("x"), 0, i("index"), i("c")[:2, :4]), ("x",)),
]

UNLISTED = [   # not in PyTorch's CPU lists: they keep their inputs' dtypes
    ("relu", lambda T, F, i: F.relu(i("x")), ("x",)),
    ("add", lambda T, F, i: i("x") + i("c")[:, :4], ("x",)),
    ("softmax", lambda T, F, i: F.softmax(i("x"), 1), ("x",)),
    ("log_softmax", lambda T, F, i: F.log_softmax(i("x"), 1), ("x",)),
    ("sum", lambda T, F, i: i("x").sum(), ("x",)),
    ("exp", lambda T, F, i: i("x").exp(), ("x",)),
    ("pow", lambda T, F, i: i("x") ** 2, ("x",)),
    ("layer_norm", lambda T, F, i: F.layer_norm(i("x"), (4,)), ("x",)),
    ("avg_pool2d", lambda T, F, i: F.avg_pool2d(i("img"), 2), ("img",)),
    ("mv", lambda T, F, i: T.mv(i("x"), i("v")), ()),
    ("dot", lambda T, F, i: T.dot(i("v"), i("u")), ()),
    ("einsum (no contraction)", lambda T, F, i: T.einsum("i,j->ij", i("v"), i("u")), ()),
    ("einsum (one operand)", lambda T, F, i: T.einsum("ii->i", i("sq")), ()),
    ("inner (dot)", lambda T, F, i: T.inner(i("v"), i("u")), ()),
    ("linalg_matrix_power (copy)", lambda T, F, i: T.linalg.matrix_power(i("sq"), 1), ()),
    ("outer", lambda T, F, i: T.outer(i("v"), i("u")), ()),
    ("interpolate", lambda T, F, i: F.interpolate(i("x1"), scale_factor=2, mode="linear"), ("x1",)),
    ("fractional_max_pool2d", lambda T, F, i: F.fractional_max_pool2d(
        i("img"), 2, output_size=3, _random_samples=T.full((1, 2, 2), 0.4).half()), ("img",)),
    ("fractional_max_pool3d", lambda T, F, i: F.fractional_max_pool3d(
        i("x3"), 2, output_size=2, _random_samples=T.full((1, 2, 3), 0.6).half()), ("x3",)),
]

ROWS = [row + ("lower",) for row in LOWER] + [row + ("fp32",) for row in FP32] + \
    [row + ("promote",) for row in PROMOTE] + [row + ("none",) for row in UNLISTED]


def _run(T, name, call, sixteen, dtype_name, seed=0):
    arrays = _inputs(seed)
    dtype = getattr(T, dtype_name)
    F = T.nn.functional

    def i(key):
        tensor = T.tensor(arrays[key])
        return tensor.to(dtype) if key in sixteen else tensor
    with T.autocast("cpu", dtype=dtype), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "torch.qr is deprecated", UserWarning)
        return call(T, F, i)


def _as_numpy(result, T):
    result = result if isinstance(result, (tuple, list)) else (result,)
    out = []
    for r in result:
        r = r.detach()
        if r.is_complex():
            r = T.view_as_real(r)
        out.append(np.asarray(r.to(T.float64).tolist(), dtype=np.float64))
    return out


@pytest.mark.parametrize("dtype_name", ["bfloat16", "float16"])
@pytest.mark.parametrize("name,call,sixteen,kind", ROWS, ids=[row[0] for row in ROWS])
def test_dtype_and_values_match_torch(name, call, sixteen, kind, dtype_name):
    expected = _run(torch, name, call, sixteen, dtype_name)
    got = _run(ember, name, call, sixteen, dtype_name)
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1], name
    tolerance = 2e-2 if kind in ("lower", "none") or sixteen else 1e-4
    if name in ("linalg_eigvals", "linalg_eig"):   # eigenvalues come in different orders
        got, expected = ember.sort(got.real)[0], torch.sort(expected.real)[0]
    for g, e in zip(_as_numpy(got, ember), _as_numpy(expected, torch)):
        scale = max(1.0, float(np.abs(e).max()) if e.size else 1.0)
        np.testing.assert_allclose(g, e, rtol=tolerance, atol=tolerance * scale, err_msg=name)


def test_every_listed_cpu_op_that_ember_has_is_sampled():
    sampled = {row[0] for row in ROWS}
    recurrent = {"lstm", "rnn_tanh", "rnn_relu"}   # the layers: tests/amp/test_autocast_rnn.py
    missing = sorted(op for op in policy.POLICIES["cpu"] if op in registry and op not in sampled | recurrent)
    assert missing == []


@pytest.mark.parametrize("dtype_name", ["bfloat16", "float16"])
def test_gradients_reach_float32_parameters_as_float32(dtype_name):
    arrays = _inputs(1)
    results = {}
    for T in (ember, torch):
        T.manual_seed(0)
        weight = T.nn.Parameter(T.tensor(arrays["w2"]))
        bias = T.nn.Parameter(T.tensor(arrays["b"][:4]))
        head = T.nn.Parameter(T.tensor(arrays["m"][:, :3].repeat(4, 0)[:16]))
        x = T.tensor(arrays["x2"])
        with T.autocast("cpu", dtype=getattr(T, dtype_name)):
            h = T.nn.functional.conv2d(x, weight, bias, stride=2)         # lower precision
            h = T.nn.functional.relu(h).flatten(1)
            logits = T.nn.functional.linear(h, head.t())                   # lower precision
            loss = T.nn.functional.cross_entropy(logits, T.tensor([0, 2]))  # float32
        assert loss.dtype is T.float32
        loss.backward()
        results[T.__name__] = [p.grad for p in (weight, bias, head)]
    for g, e in zip(results["ember"], results["torch"]):
        assert g.dtype is ember.float32 and e.dtype is torch.float32
        np.testing.assert_allclose(np.asarray(g.tolist()), e.numpy(), rtol=3e-2, atol=3e-2)
