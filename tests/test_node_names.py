"""grad_fn names as PyTorch prints them (``MeanBackward0``, ``SumBackward1``, ...), for the ops users print most."""
import math
import warnings

import numpy
import pytest
import torch

import ember

NAMED = {
    "mean": lambda L, x: x.mean(),
    "mean_dim": lambda L, x: x.mean(0),
    "mean_dims_keepdim": lambda L, x: x.mean((0, 1), keepdim=True),
    "sum": lambda L, x: x.sum(),
    "sum_dim": lambda L, x: x.sum(-1),
    "sum_keepdim": lambda L, x: x.sum(0, keepdim=True),
    "nansum": lambda L, x: x.nansum(),
    "prod": lambda L, x: x.prod(),
    "prod_dim": lambda L, x: x.prod(1),
    "max": lambda L, x: x.max(),
    "max_dim": lambda L, x: x.max(0)[0],
    "max_dim_keepdim": lambda L, x: x.max(0, keepdim=True)[0],
    "min": lambda L, x: x.min(),
    "min_dim": lambda L, x: x.min(1).values,
    "amax": lambda L, x: x.amax(0),
    "amin": lambda L, x: x.amin(),
    "var": lambda L, x: x.var(),
    "var_dim": lambda L, x: x.var(0, correction=0),
    "std": lambda L, x: x.std(),
    "var_mean": lambda L, x: L.var_mean(x, 0)[0],
    "std_mean": lambda L, x: L.std_mean(x)[0],
    "norm": lambda L, x: x.norm(),
    "norm_p": lambda L, x: x.norm(p=3, dim=0),
    "norm_inf": lambda L, x: x.norm(p=float("inf")),
    "logsumexp": lambda L, x: x.logsumexp(0),
    "cumsum": lambda L, x: x.cumsum(0),
    "pow_scalar": lambda L, x: x ** 2,
    "pow_tensor": lambda L, x: x ** x,
    "pow_0d_exponent": lambda L, x: x ** L.tensor(2.0),
    "rpow": lambda L, x: 2 ** x,
    "square": lambda L, x: x.square(),
    "add": lambda L, x: x + 1,
    "add_tensor": lambda L, x: x + x,
    "sub": lambda L, x: x - x,
    "rsub": lambda L, x: 1 - x,
    "mul": lambda L, x: x * 2,
    "div": lambda L, x: x / x,
    "rdiv": lambda L, x: 2 / x,
    "reciprocal": lambda L, x: x.reciprocal(),
    "neg": lambda L, x: -x,
    "remainder": lambda L, x: x % 2,
    "fmod": lambda L, x: x.fmod(2),
    "floor_divide": lambda L, x: x // 2,
    "rfloordiv": lambda L, x: 3 // x,
    "rmod": lambda L, x: 3 % x,
    "relu": lambda L, x: x.relu(),
    "exp": lambda L, x: x.exp(),
    "log": lambda L, x: x.log(),
    "log1p": lambda L, x: x.log1p(),
    "sqrt": lambda L, x: x.sqrt(),
    "rsqrt": lambda L, x: x.rsqrt(),
    "sigmoid": lambda L, x: x.sigmoid(),
    "tanh": lambda L, x: x.tanh(),
    "sin": lambda L, x: x.sin(),
    "abs": lambda L, x: x.abs(),
    "clamp": lambda L, x: x.clamp(0, 1),
    "clamp_tensor": lambda L, x: x.clamp(min=x * 0),
    "clamp_min": lambda L, x: x.clamp_min(0.5),
    "clamp_max": lambda L, x: x.clamp_max(0.5),
    "clamp_min_tensor": lambda L, x: x.clamp_min(x * 0),
    "clamp_one_tensor_bound": lambda L, x: x.clamp(max=x * 2),
    "maximum": lambda L, x: L.maximum(x, x * 2),
    "where": lambda L, x: L.where(x > 1, x, 0.0),
    "lerp": lambda L, x: x.lerp(x * 2, 0.5),
    "lerp_tensor": lambda L, x: x.lerp(x * 2, x),
    "deg2rad": lambda L, x: x.deg2rad(),
    "round_decimals": lambda L, x: x.round(decimals=1),
    "float": lambda L, x: x.float(),
    "to": lambda L, x: x.to(L.float32),
    "type_as": lambda L, x: x.type_as(L.zeros(1)),
    "floor": lambda L, x: x.floor(),
    "ceil": lambda L, x: x.ceil(),
    "trunc": lambda L, x: x.trunc(),
    "round": lambda L, x: x.round(),
    "frac": lambda L, x: x.frac(),
    "sign": lambda L, x: x.sign(),
    "sgn": lambda L, x: x.sgn(),
    "atan2": lambda L, x: x.atan2(x),
    "hypot": lambda L, x: x.hypot(x),
    "xlogy": lambda L, x: x.xlogy(x),
    "logit": lambda L, x: (x / 2).logit(),
    "nan_to_num": lambda L, x: x.nan_to_num(),
    "addcmul": lambda L, x: x.addcmul(x, x),
    "addcdiv": lambda L, x: x.addcdiv(x, x),
    "float_power": lambda L, x: x.float_power(2),
    "exp2": lambda L, x: x.exp2(),
    "expm1": lambda L, x: x.expm1(),
    "log2": lambda L, x: x.log2(),
    "copysign": lambda L, x: x.copysign(x),
    "logaddexp": lambda L, x: x.logaddexp(x),
    "fmax": lambda L, x: x.fmax(x),
    "minimum": lambda L, x: x.minimum(x),
    "erf": lambda L, x: x.erf(),
    "erfinv": lambda L, x: (x / 4).erfinv(),
    "asin": lambda L, x: (x / 2).asin(),
    "atanh": lambda L, x: (x / 2).atanh(),
    "view": lambda L, x: x.view(-1),
    "reshape_view": lambda L, x: x.reshape(3, 2),
    "flatten": lambda L, x: x.flatten(),
    "t": lambda L, x: x.t(),
    "transpose": lambda L, x: x.transpose(0, 1),
    "mT": lambda L, x: x.mT,
    "permute": lambda L, x: x.permute(1, 0),
    "unsqueeze": lambda L, x: x.unsqueeze(0),
    "squeeze": lambda L, x: x.unsqueeze(0).squeeze(),
    "squeeze_dim": lambda L, x: x.unsqueeze(0).squeeze(0),
    "expand": lambda L, x: x[None].expand(2, 2, 3),
    "clone": lambda L, x: x.clone(),
}

_TARGET = [0, 2]
LOSSES = {   # each checked under the three reductions
    "nll_loss": lambda L, x, r: L.nn.functional.nll_loss(x, L.tensor(_TARGET), reduction=r),
    "nll_loss_weight_ignore": lambda L, x, r: L.nn.functional.nll_loss(x, L.tensor(_TARGET), L.ones(3, dtype=x.dtype), ignore_index=2,
                                                                       reduction=r),
    "cross_entropy": lambda L, x, r: L.nn.functional.cross_entropy(x, L.tensor(_TARGET), reduction=r),
    "cross_entropy_probabilities": lambda L, x, r: L.nn.functional.cross_entropy(x, x.detach().softmax(1), reduction=r),
    "mse_loss": lambda L, x, r: L.nn.functional.mse_loss(x, x.detach() * 2, reduction=r),
    "l1_loss": lambda L, x, r: L.nn.functional.l1_loss(x, x.detach() * 2, reduction=r),
    "smooth_l1_loss": lambda L, x, r: L.nn.functional.smooth_l1_loss(x, x.detach() * 2, reduction=r),
    "huber_loss": lambda L, x, r: L.nn.functional.huber_loss(x, x.detach() * 2, reduction=r),
    "binary_cross_entropy": lambda L, x, r: L.nn.functional.binary_cross_entropy(x / 2, x.detach() / 3, reduction=r),
    "binary_cross_entropy_with_logits": lambda L, x, r: L.nn.functional.binary_cross_entropy_with_logits(
        x, x.detach() / 2, reduction=r),
    "soft_margin_loss": lambda L, x, r: L.nn.functional.soft_margin_loss(x, x.detach().sign(), reduction=r),
    "multilabel_soft_margin_loss": lambda L, x, r: L.nn.functional.multilabel_soft_margin_loss(
        x, (x.detach() > 1).float(), reduction=r),
    "multi_margin_loss": lambda L, x, r: L.nn.functional.multi_margin_loss(x, L.tensor(_TARGET), reduction=r),
    "multilabel_margin_loss": lambda L, x, r: L.nn.functional.multilabel_margin_loss(
        x, L.tensor([[0, 1, -1], [2, -1, 0]]), reduction=r),
    "margin_ranking_loss": lambda L, x, r: L.nn.functional.margin_ranking_loss(x[0], x[1], L.ones(3), reduction=r),
    "triplet_margin_loss": lambda L, x, r: L.nn.functional.triplet_margin_loss(x, x.detach(), x.detach() * 2,
                                                                               reduction=r),
}
for _name, _loss in LOSSES.items():
    for _reduction in ("mean", "sum", "none"):
        NAMED[f"{_name}_{_reduction}"] = lambda L, x, loss=_loss, reduction=_reduction: loss(L, x, reduction)


def _names(fn):
    array = numpy.random.default_rng(0).uniform(0.5, 1.5, (2, 3))
    names = []
    for lib in (torch, ember):
        x = lib.tensor(array, requires_grad=True) * 1   # a non-leaf, as most printed tensors are
        node = fn(lib, x).grad_fn
        names.append((node.name(), type(node).__name__))
    return names


@pytest.mark.parametrize("case", list(NAMED))
def test_grad_fn_name_matches_torch(case):
    (torch_name, torch_type), (ember_name, ember_type) = _names(NAMED[case])
    assert ember_name == torch_name
    assert ember_type == torch_type


def test_repr_shows_the_torch_name():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    assert "grad_fn=<MeanBackward0>" in repr(x.mean())
    assert repr(x.mean().grad_fn).startswith("<MeanBackward0 object at ")


def test_renamed_node_keeps_its_backward():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.mean().backward()
    numpy.testing.assert_allclose(x.grad.numpy(), [1 / 3] * 3)


INDEXING = ["[0]", "[-1]", "[0, 1]", "[:, 0]", "[1:]", "[:]", "[None, 0]", "[..., 0]", "[0][1]", "[None]", "[:, None]",
            "[0, 1:]", "[...]", "[0, :]", "[0, ...]", "[:, :]", "[:, :100]", "[:, 1:][0]", "[None, :]", "[::2]",
            "[True]", "[[0, 1]]", ".select(1, 2)", ".narrow(0, 1, 1)"]


@pytest.mark.parametrize("key", INDEXING)
def test_basic_indexing_names_its_last_view(key):
    """``x[key]`` shows PyTorch's node for the last view its indexing applies: Select for an int, Unsqueeze for None,
    Slice for a slice other than the whole dim (a lone slice always), Alias for none."""
    (torch_name, _), (ember_name, _) = _names(lambda L, x: eval("x" + key))
    assert ember_name == torch_name


LINALG = {
    "solve": lambda L, a, s, b, v: L.linalg.solve(a, b), "solve_vector": lambda L, a, s, b, v: L.linalg.solve(a, v),
    "solve_right": lambda L, a, s, b, v: L.linalg.solve(a, b.mT, left=False),
    "inv": lambda L, a, s, b, v: L.linalg.inv(a), "inverse": lambda L, a, s, b, v: L.inverse(a),
    "det": lambda L, a, s, b, v: L.det(a), "slogdet": lambda L, a, s, b, v: L.linalg.slogdet(a)[1],
    "logdet": lambda L, a, s, b, v: L.logdet(s), "cholesky": lambda L, a, s, b, v: L.linalg.cholesky(s),
    "cholesky_legacy": lambda L, a, s, b, v: L.cholesky(s), "qr": lambda L, a, s, b, v: L.linalg.qr(a)[0],
    "eigh": lambda L, a, s, b, v: L.linalg.eigh(s)[1], "eigvalsh": lambda L, a, s, b, v: L.linalg.eigvalsh(s),
    "eig": lambda L, a, s, b, v: L.linalg.eigvals(a), "svd": lambda L, a, s, b, v: L.linalg.svd(a)[2],
    "svdvals": lambda L, a, s, b, v: L.linalg.svdvals(a), "pinv": lambda L, a, s, b, v: L.linalg.pinv(a),
    "matrix_exp": lambda L, a, s, b, v: L.matrix_exp(a), "vector_norm": lambda L, a, s, b, v: L.linalg.vector_norm(v),
    "matrix_norm_fro": lambda L, a, s, b, v: L.linalg.matrix_norm(a),
    "matrix_norm_2": lambda L, a, s, b, v: L.linalg.matrix_norm(a, 2),
    "matrix_norm_-2": lambda L, a, s, b, v: L.linalg.matrix_norm(a, -2),
    "norm_1": lambda L, a, s, b, v: L.linalg.norm(a, 1), "norm_-inf": lambda L, a, s, b, v: L.linalg.norm(a, -math.inf),
    "dist": lambda L, a, s, b, v: L.dist(a, b[:, :1]), "cdist": lambda L, a, s, b, v: L.cdist(a, a, p=1),
    "lstsq": lambda L, a, s, b, v: L.linalg.lstsq(a, b).solution, "cross": lambda L, a, s, b, v: L.cross(a, a, dim=1),
    "linalg_cross": lambda L, a, s, b, v: L.linalg.cross(a, a), "trace": lambda L, a, s, b, v: L.trace(a),
    "triu": lambda L, a, s, b, v: a.triu(), "tril": lambda L, a, s, b, v: a.tril(1),
    "kron": lambda L, a, s, b, v: L.kron(a, b), "solve_triangular": lambda L, a, s, b, v: L.linalg.solve_triangular(
        a.triu(), b, upper=True), "lu_factor": lambda L, a, s, b, v: L.linalg.lu_factor(a)[0],
    "lu_L": lambda L, a, s, b, v: L.linalg.lu(a)[1], "lu_U": lambda L, a, s, b, v: L.linalg.lu(a)[2],
}


@pytest.mark.parametrize("case", list(LINALG))
def test_linalg_names_match_torch(case):
    """Decompositions, solvers, norms and the matrix helpers show PyTorch's nodes (LinalgSolveExBackward0, ...)."""
    rng = numpy.random.default_rng(0)
    a = rng.standard_normal((3, 3)) + 3 * numpy.eye(3)
    arrays = (a, a @ a.T, rng.standard_normal((3, 2)), rng.standard_normal(3))
    names = []
    for lib in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            names.append(LINALG[case](lib, *(lib.tensor(x, requires_grad=True) for x in arrays)).grad_fn.name())
    assert names[1] == names[0]


ACTIVATIONS = {
    "mish": lambda L, x: L.nn.functional.mish(x), "logsigmoid": lambda L, x: L.nn.functional.logsigmoid(x),
    "softshrink": lambda L, x: L.nn.functional.softshrink(x), "hardshrink": lambda L, x: L.nn.functional.hardshrink(x),
    "silu": lambda L, x: L.nn.functional.silu(x), "rrelu": lambda L, x: L.nn.functional.rrelu(x),
    "rrelu_training": lambda L, x: L.nn.functional.rrelu(x, training=True),
    "threshold": lambda L, x: L.nn.functional.threshold(x, 0.9, 0.0),
    "prelu": lambda L, x: L.nn.functional.prelu(x, L.tensor([0.2], dtype=x.dtype)),
    "instance_norm": lambda L, x: L.nn.functional.instance_norm(x.unsqueeze(0)),
    "instance_norm_affine": lambda L, x: L.nn.InstanceNorm1d(2, affine=True).double()(x.unsqueeze(0)),
}


@pytest.mark.parametrize("case", list(ACTIVATIONS))
def test_activation_and_instance_norm_names_match_torch(case):
    (torch_name, _), (ember_name, _) = _names(ACTIVATIONS[case])
    assert ember_name == torch_name
