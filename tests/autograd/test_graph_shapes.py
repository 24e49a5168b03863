"""The autograd graph's shape as PyTorch's: from a result's ``grad_fn``, the nodes' names and their
``next_functions`` (one entry per input PyTorch's node takes, ``(None, 0)`` for one needing no gradient, leaves as
``AccumulateGrad`` of the very tensor), compared recursively with PyTorch's for the same tiny graph."""
import warnings

import numpy
import pytest
import torch

import ember


def _shape(node, leaves, depth=0):
    """The graph below ``node`` as nested tuples: (type name, name(), children), a leaf by its index in
    ``leaves``."""
    if node is None:
        return None
    if "AccumulateGrad" in node.name():
        return ("leaf", next((i for i, leaf in enumerate(leaves) if leaf is node.variable), "other"))
    if depth > 10:
        return (node.name(), "...")
    children = tuple(None if child is None else (_shape(child, leaves, depth + 1), nr)
                     for child, nr in node.next_functions)
    return (type(node).__name__, node.name(), children)


_RNG = numpy.random.default_rng(0)


def _n(*shape):
    return _RNG.standard_normal(shape)


def _p(*shape):
    return _RNG.uniform(0.2, 0.9, shape)


X = _n(2, 3)
TARGET = numpy.array([0, 2])
CASES = {}   # name -> (arrays, which require grad, function of (library, *tensors))


def _case(name, arrays, function, grads=None):
    CASES[name] = (arrays, grads or [i == 0 for i in range(len(arrays))], function)


def F(L):
    return L.nn.functional


for _r in ("mean", "sum", "none"):
    _case(f"mse_loss_{_r}", [X, _n(2, 3)], lambda L, a, b, r=_r: F(L).mse_loss(a, b, reduction=r))
    _case(f"mse_loss_both_{_r}", [X, _n(2, 3)], lambda L, a, b, r=_r: F(L).mse_loss(a, b, reduction=r), [True, True])
    _case(f"l1_loss_{_r}", [X, _n(2, 3)], lambda L, a, b, r=_r: F(L).l1_loss(a, b, reduction=r))
    _case(f"smooth_l1_loss_{_r}", [X, _n(2, 3)], lambda L, a, b, r=_r: F(L).smooth_l1_loss(a, b, reduction=r))
    _case(f"huber_loss_{_r}", [X, _n(2, 3)], lambda L, a, b, r=_r: F(L).huber_loss(a, b, reduction=r))
    _case(f"nll_loss_{_r}", [X, TARGET], lambda L, a, t, r=_r: F(L).nll_loss(a, t, reduction=r))
    _case(f"binary_cross_entropy_{_r}", [_p(2, 3), _p(2, 3)],
          lambda L, a, b, r=_r: F(L).binary_cross_entropy(a, b, reduction=r))
    _case(f"binary_cross_entropy_with_logits_{_r}", [X, _p(2, 3)],
          lambda L, a, b, r=_r: F(L).binary_cross_entropy_with_logits(a, b, reduction=r))
    _case(f"kl_div_{_r}", [X, _p(2, 3)], lambda L, a, b, r=_r: F(L).kl_div(a, b, reduction=r))
    _case(f"soft_margin_loss_{_r}", [X, numpy.sign(_n(2, 3))],
          lambda L, a, b, r=_r: F(L).soft_margin_loss(a, b, reduction=r))
_case("nll_loss_weight", [X, TARGET, _p(3)], lambda L, a, t, w: F(L).nll_loss(a, t, weight=w))
_case("poisson_nll_loss", [X, _p(2, 3)], lambda L, a, b: F(L).poisson_nll_loss(a, b))
_case("multi_margin_loss", [X, TARGET], lambda L, a, t: F(L).multi_margin_loss(a, t))
for _act in ("relu", "relu6", "elu", "selu", "celu", "gelu", "softplus", "softsign", "tanhshrink", "hardtanh",
             "hardswish", "hardsigmoid", "leaky_relu", "sigmoid", "tanh"):
    _case(f"activation_{_act}", [X], lambda L, a, act=_act: getattr(F(L), act)(a))
for _act in ("silu", "mish", "logsigmoid", "softshrink", "hardshrink", "glu"):
    _case(f"composite_activation_{_act}", [_n(2, 4)], lambda L, a, act=_act: getattr(F(L), act)(a))
_case("threshold", [X], lambda L, a: F(L).threshold(a, 0.1, 0.0))
_case("prelu", [X, _p(1)], lambda L, x, w: F(L).prelu(x, w), [True, True])
_case("prelu_channels", [_n(2, 3, 2), _p(3)], lambda L, x, w: F(L).prelu(x, w), [True, True])
_case("prelu_vector", [_n(3), _p(1)], lambda L, x, w: F(L).prelu(x, w), [True, True])
_case("normalize", [X], lambda L, a: F(L).normalize(a))
_case("hinge_embedding_loss", [X, numpy.sign(_n(2, 3))], lambda L, a, b: F(L).hinge_embedding_loss(a, b))
_case("softmax", [X], lambda L, a: F(L).softmax(a, 1))
_case("log_softmax", [X], lambda L, a: F(L).log_softmax(a, 0))
_case("linear", [X, _n(4, 3), _n(4)], lambda L, x, w, b: F(L).linear(x, w, b), [True, True, True])
_case("linear_weight_and_bias", [X, _n(4, 3), _n(4)], lambda L, x, w, b: F(L).linear(x, w, b), [False, True, True])
_case("linear_input_only", [X, _n(4, 3), _n(4)], lambda L, x, w, b: F(L).linear(x, w, b))
_case("linear_without_bias", [X, _n(4, 3)], lambda L, x, w: F(L).linear(x, w), [True, True])
_case("linear_3d", [_n(2, 2, 3), _n(4, 3), _n(4)], lambda L, x, w, b: F(L).linear(x, w, b), [True, True, True])
_case("linear_vector", [_n(3), _n(4, 3), _n(4)], lambda L, x, w, b: F(L).linear(x, w, b), [True, True, True])
_case("linear_vector_without_bias", [_n(3), _n(4, 3)], lambda L, x, w: F(L).linear(x, w), [True, True])
_case("linear_3d_without_bias", [_n(2, 2, 3), _n(4, 3)], lambda L, x, w: F(L).linear(x, w), [True, True])
_case("linear_module", [X], lambda L, x: _seeded(L).nn.Linear(3, 2).double()(x))
_case("mlp", [X], lambda L, x: _mlp(L)(x).sum())
for _cell in ("rnn_tanh_cell", "rnn_relu_cell"):
    _case(_cell, [X, _n(2, 4), _n(4, 3), _n(4, 4), _n(4), _n(4)],
          lambda L, x, h, wi, wh, bi, bh, cell=_cell: getattr(L, cell)(x, h, wi, wh, bi, bh), [True] * 6)
_case("conv2d", [_n(1, 2, 4, 4), _n(3, 2, 2, 2), _n(3)], lambda L, x, w, b: F(L).conv2d(x, w, b), [True, True, True])
_case("conv2d_input_only", [_n(1, 2, 4, 4), _n(3, 2, 2, 2), _n(3)], lambda L, x, w, b: F(L).conv2d(x, w, b))
_case("layer_norm", [X, _p(3), _n(3)], lambda L, x, w, b: F(L).layer_norm(x, (3,), w, b), [True, True, True])
_case("conv2d_without_bias", [_n(1, 2, 4, 4), _n(3, 2, 2, 2)], lambda L, x, w: F(L).conv2d(x, w), [True, True])
_case("conv1d_unbatched", [_n(2, 5), _n(3, 2, 2), _n(3)], lambda L, x, w, b: F(L).conv1d(x, w, b), [True, True, True])
_case("conv_transpose2d", [_n(1, 2, 3, 3), _n(2, 3, 2, 2), _n(3)], lambda L, x, w, b: F(L).conv_transpose2d(x, w, b),
      [True, False, True])
_case("conv_transpose1d_without_bias", [_n(1, 2, 3), _n(2, 3, 2)], lambda L, x, w: F(L).conv_transpose1d(x, w),
      [True, True])
_case("batch_norm_training", [_n(3, 2), _n(2), _p(2), _p(2), _n(2)],
      lambda L, x, m, v, w, b: F(L).batch_norm(x, m, v, w, b, training=True), [True, False, False, True, True])
_case("batch_norm_eval", [_n(3, 2), _n(2), _p(2), _p(2), _n(2)],
      lambda L, x, m, v, w, b: F(L).batch_norm(x, m, v, w, b), [True, False, False, True, True])
_case("batch_norm_without_affine", [_n(3, 2, 4)], lambda L, x: F(L).batch_norm(x, None, None, training=True))
_case("batch_norm_module_eval", [_n(3, 2, 4)], lambda L, x: L.nn.BatchNorm1d(2).double().eval()(x))
_case("group_norm", [_n(2, 4, 3), _p(4), _n(4)], lambda L, x, w, b: F(L).group_norm(x, 2, w, b), [True, True, True])
_case("group_norm_without_affine", [_n(2, 4, 3)], lambda L, x: F(L).group_norm(x, 2))
_case("instance_norm", [_n(2, 3, 4)], lambda L, x: F(L).instance_norm(x))
_case("instance_norm_affine", [_n(2, 3, 4), _p(3), _n(3)], lambda L, x, w, b: F(L).instance_norm(x, weight=w, bias=b),
      [True, True, True])
_case("rms_norm", [X, _p(3)], lambda L, x, w: F(L).rms_norm(x, (3,), w), [True, True])
_case("rms_norm_without_weight", [X], lambda L, x: F(L).rms_norm(x, (3,)))
_case("embedding", [numpy.array([0, 2]), _n(4, 3)], lambda L, i, w: F(L).embedding(i, w), [False, True])
_case("cross_entropy", [X, TARGET], lambda L, a, t: F(L).cross_entropy(a, t))
_case("cross_entropy_none", [X, TARGET], lambda L, a, t: F(L).cross_entropy(a, t, reduction="none"))
_case("cross_entropy_weight", [X, TARGET, _p(3)], lambda L, a, t, w: F(L).cross_entropy(a, t, weight=w))
_case("cross_entropy_probabilities", [X, _p(2, 3)], lambda L, a, t: F(L).cross_entropy(a, t))
_X1, _X2, _X3 = _n(1, 2, 6), _n(1, 2, 4, 4), _n(1, 1, 4, 4, 4)
for _name, (_call, _x) in {
        "max_pool1d": (lambda F, x: F.max_pool1d(x, 2), _X1), "max_pool2d": (lambda F, x: F.max_pool2d(x, 2), _X2),
        "max_pool2d_indices": (lambda F, x: F.max_pool2d(x, 2, return_indices=True)[0], _X2),
        "max_pool2d_unbatched": (lambda F, x: F.max_pool2d(x[0], 2), _X2),
        "max_pool3d": (lambda F, x: F.max_pool3d(x, 2), _X3), "avg_pool1d": (lambda F, x: F.avg_pool1d(x, 2), _X1),
        "avg_pool2d": (lambda F, x: F.avg_pool2d(x, 2), _X2), "avg_pool3d": (lambda F, x: F.avg_pool3d(x, 2), _X3),
        "adaptive_avg_pool1d": (lambda F, x: F.adaptive_avg_pool1d(x, 3), _X1),
        "adaptive_avg_pool1d_one": (lambda F, x: F.adaptive_avg_pool1d(x, 1), _X1),
        "adaptive_avg_pool2d_one": (lambda F, x: F.adaptive_avg_pool2d(x, 1), _X2),
        "adaptive_avg_pool2d": (lambda F, x: F.adaptive_avg_pool2d(x, 3), _X2),
        "adaptive_avg_pool3d": (lambda F, x: F.adaptive_avg_pool3d(x, 2), _X3),
        "adaptive_max_pool1d": (lambda F, x: F.adaptive_max_pool1d(x, 3), _X1),
        "adaptive_max_pool2d": (lambda F, x: F.adaptive_max_pool2d(x, 2), _X2),
        "pad": (lambda F, x: F.pad(x, (1, 2)), _X1), "pad_reflect": (lambda F, x: F.pad(x, (1, 1), "reflect"), _X1),
        "pad_replicate": (lambda F, x: F.pad(x, (1, 1, 1, 1), "replicate"), _X2),
        "interpolate_nearest": (lambda F, x: F.interpolate(x, scale_factor=2), _X2),
        "interpolate_nearest_exact": (lambda F, x: F.interpolate(x, scale_factor=2, mode="nearest-exact"), _X1),
        "interpolate_linear": (lambda F, x: F.interpolate(x, scale_factor=2, mode="linear"), _X1),
        "interpolate_bilinear": (lambda F, x: F.interpolate(x, scale_factor=2, mode="bilinear"), _X2),
        "interpolate_bicubic": (lambda F, x: F.interpolate(x, size=(3, 5), mode="bicubic"), _X2),
        "interpolate_trilinear": (lambda F, x: F.interpolate(x, scale_factor=2, mode="trilinear"), _X3),
        "interpolate_area": (lambda F, x: F.interpolate(x, size=(2, 2), mode="area"), _X2),
        "interpolate_antialias": (lambda F, x: F.interpolate(x, scale_factor=0.5, mode="bilinear", antialias=True),
                                  _X2)}.items():
    _case(_name, [_x], lambda L, x, call=_call: call(F(L), x))
_case("dropout_eval", [X], lambda L, a: F(L).dropout(a, 0.5, training=False))
for _red in ("sum", "mean", "prod", "amax", "amin", "std", "var", "norm", "nansum"):
    _case(f"{_red}", [X], lambda L, a, red=_red: getattr(a, red)())
    _case(f"{_red}_dim", [X], lambda L, a, red=_red: getattr(a, red)(1))
_case("logsumexp", [X], lambda L, a: a.logsumexp(1))
_case("max_dim", [X], lambda L, a: a.max(1)[0])
_case("median", [X], lambda L, a: a.median())
_case("cumsum", [X], lambda L, a: a.cumsum(1))
_case("var_mean", [X], lambda L, a: ember_or_torch_var_mean(L, a))
_case("index_select", [X], lambda L, a: a.index_select(1, L.tensor([0, 2])))
_case("gather", [X], lambda L, a: a.gather(1, L.tensor([[0, 1], [2, 0]])))
_case("scatter", [X, _n(2, 2)], lambda L, a, s: a.scatter(1, L.tensor([[0, 1], [2, 0]]), s), [True, True])
for _name, _call in {"sort": lambda a: a.sort(1, descending=True)[0], "topk": lambda a: a.topk(2)[0],
                     "kthvalue": lambda a: a.kthvalue(2)[0], "kthvalue_keepdim": lambda a: a.kthvalue(2, 1, True)[0],
                     "median_dim": lambda a: a.median(1)[0], "nanmedian_dim": lambda a: a.nanmedian(1)[0],
                     "mode": lambda a: a.mode(1)[0], "cummax": lambda a: a.cummax(1)[0],
                     "cummin": lambda a: a.cummin(0)[0], "min_dim": lambda a: a.min(1)[0],
                     "masked_fill": lambda a: a.masked_fill(a > 0, 0.0),
                     "masked_fill_": lambda a: (a * 1).masked_fill_(a > 0, 1.0),
                     "masked_select": lambda a: a.masked_select(a > 0),
                     "index_fill": lambda a: a.index_fill(1, _index(a, [0, 2]), 2.0),
                     "take": lambda a: a.take(_index(a, [0, 3])),
                     "scatter_value": lambda a: a.scatter(1, _index(a, [[0, 1], [2, 0]]), 2.0)}.items():
    _case(_name, [X], lambda L, a, call=_call: call(a))
for _name, _call in {"scatter_add": lambda a, s: a.scatter_add(1, _index(a, [[0, 1], [2, 0]]), s),
                     "scatter_reduce": lambda a, s: a.scatter_reduce(1, _index(a, [[0, 1], [2, 0]]), s, "amax"),
                     "index_add": lambda a, s: a.index_add(1, _index(a, [0, 2]), s, alpha=2),
                     "index_add_": lambda a, s: (a * 1).index_add_(1, _index(a, [0, 2]), s),
                     "index_copy": lambda a, s: a.index_copy(1, _index(a, [0, 2]), s),
                     "put": lambda a, s: a.put(_index(a, [0, 3]), s[0]),
                     "masked_scatter": lambda a, s: a.masked_scatter(a > 0, s.repeat(2, 2))}.items():
    _case(_name, [X, _n(2, 2)], lambda L, a, s, call=_call: call(a, s), [True, True])
_case("masked_fill_tensor", [X, numpy.array(2.0)], lambda L, a, v: a.masked_fill(a > 0, v), [True, True])
_case("index_fill_tensor", [X, numpy.array(2.0)], lambda L, a, v: a.index_fill(1, L.tensor([0, 2]), v), [True, True])
_case("where", [X, _n(2, 3)], lambda L, a, b: L.where(a > 0, a, b), [True, True])
_case("where_one", [X, _n(2, 3)], lambda L, a, b: L.where(a > 0, a, b), [False, True])
_case("where_scalar", [X], lambda L, a: L.where(a > 0, a, 0.0))
for _view, _call in {"view": lambda a: a.view(3, 2), "reshape": lambda a: a.reshape(-1), "t": lambda a: a.t(),
                     "flatten": lambda a: a.flatten(), "unflatten": lambda a: a.unflatten(1, (3, 1)),
                     "permute": lambda a: a.permute(1, 0), "transpose": lambda a: a.transpose(0, 1),
                     "expand": lambda a: a[:1].expand(2, 3), "repeat": lambda a: a.repeat(2, 1),
                     "squeeze": lambda a: a[:, None].squeeze(1), "unsqueeze": lambda a: a.unsqueeze(1),
                     "chunk": lambda a: a.chunk(3, 1)[1], "split": lambda a: a.split(1, 1)[2],
                     "unbind": lambda a: a.unbind(1)[2], "roll": lambda a: a.roll(1, 1), "flip": lambda a: a.flip(1),
                     "diagonal": lambda a: a.diagonal(), "tril": lambda a: a.tril(),
                     "contiguous": lambda a: a.t().contiguous(), "clone": lambda a: a.clone(),
                     "float": lambda a: a.float()}.items():
    _case(_view, [X], lambda L, a, call=_call: call(a))
for _name, _call in {"reshape_transposed": lambda a: a.t().reshape(-1),
                     "reshape_alias": lambda a: a.t().reshape(3, 2, 1), "reshape_slice": lambda a: a[:, :1].reshape(2),
                     "flatten_transposed": lambda a: a.t().flatten(),
                     "split_with_sizes": lambda a: a.split([1, 2], 1)[1],
                     "atleast_3d": lambda a: L_atleast(a, 3), "atleast_3d_vector": lambda a: L_atleast(a[0], 3),
                     "atleast_2d_scalar": lambda a: L_atleast(a.sum(), 2)}.items():
    _case(_name, [X], lambda L, a, call=_call: call(a))
_case("vstack", [_n(3), _n(3)], lambda L, a, b: L.vstack([a, b]), [True, True])
_case("dstack", [X, X], lambda L, a, b: L.dstack([a, b]), [True, True])
_case("dist", [X, _n(2, 3)], lambda L, a, b: L.dist(a, b), [True, True])
_case("pairwise_distance", [X, _n(2, 3)], lambda L, a, b: F(L).pairwise_distance(a, b), [True, True])
_case("as_strided_scatter", [_n(6), _n(2, 2)], lambda L, a, s: L.as_strided_scatter(a * 1, s, (2, 2), (1, 2), 1),
      [True, True])
_case("unfold", [_n(1, 2, 4, 4)], lambda L, a: F(L).unfold(a, 2))
_case("fold", [_n(1, 8, 9)], lambda L, a: F(L).fold(a, (4, 4), 2))
_case("pixel_shuffle", [_n(1, 4, 2, 2)], lambda L, a: F(L).pixel_shuffle(a, 2))
_case("pixel_unshuffle", [_n(1, 1, 4, 4)], lambda L, a: F(L).pixel_unshuffle(a, 2))
_case("trace", [_n(3, 3)], lambda L, a: a.trace())
_case("broadcast_to_sizes", [_n(3)], lambda L, a: a.broadcast_to(2, 3))
_case("cat", [X, _n(2, 3)], lambda L, a, b: L.cat([a, b]), [True, True])
_case("cat_three", [X, _n(2, 3), _n(1, 3)], lambda L, a, b, c: L.cat([a, b, c]), [True, False, True])
_case("stack", [X, _n(2, 3)], lambda L, a, b: L.stack([a, b]), [False, True])
_case("matmul", [X, _n(3, 2)], lambda L, a, b: a @ b, [True, True])
_case("matmul_one", [X, _n(3, 2)], lambda L, a, b: a @ b, [False, True])
_case("bmm", [_n(2, 2, 3), _n(2, 3, 2)], lambda L, a, b: a.bmm(b), [True, True])
_case("mv", [X, _n(3)], lambda L, a, b: a.mv(b), [True, True])
for _a, _b in (((2, 3), (3,)), ((3,), (3, 2)), ((2, 2, 3), (3, 2)), ((2, 2, 3), (3,)), ((2, 2, 3), (2, 3, 2)),
               ((2, 2, 2, 3), (2, 2, 3, 2))):
    _case(f"matmul_{len(_a)}d_{len(_b)}d", [_n(*_a), _n(*_b)], lambda L, a, b: a @ b, [True, True])
_case("matmul_4d_4d_one", [_n(2, 2, 2, 3), _n(2, 2, 3, 2)], lambda L, a, b: a @ b, [False, True])
_case("outer", [_n(3), _n(2)], lambda L, a, b: L.outer(a, b), [True, True])
_case("outer_half", [_n(3), _n(2)], lambda L, a, b: L.outer(a.half(), b.half()), [True, True])
_case("addmm", [_n(2), X, _n(3, 2)], lambda L, c, a, b: L.addmm(c, a, b), [True, True, True])
_case("addmm_scaled", [_n(2), X, _n(3, 2)], lambda L, c, a, b: L.addmm(c, a, b, beta=0.5, alpha=2), [True, False, True])
_case("addmv", [_n(2), X, _n(3)], lambda L, c, a, b: L.addmv(c, a, b), [True, True, True])
_case("addr", [X, _n(2), _n(3)], lambda L, c, a, b: L.addr(c, a, b), [True, True, True])
_case("addbmm", [_n(2, 2), _n(2, 2, 3), _n(2, 3, 2)], lambda L, c, a, b: L.addbmm(c, a, b), [True, True, True])
_case("baddbmm", [_n(2, 2, 2), _n(2, 2, 3), _n(2, 3, 2)], lambda L, c, a, b: L.baddbmm(c, a, b), [True, True, True])
_case("add", [X, _n(2, 3)], lambda L, a, b: a + b, [True, True])
_case("add_one", [X, _n(2, 3)], lambda L, a, b: a + b, [False, True])
_case("mul_scalar", [X], lambda L, a: a * 2)
_case("mul_0d", [X, numpy.array(2.0)], lambda L, a, b: a * b)
_case("pow", [_p(2, 3), _n(2, 3)], lambda L, a, b: a ** b, [True, True])
_case("clamp", [X], lambda L, a: a.clamp(-0.5, 0.5))
_case("rsub_scalar", [X], lambda L, a: 2 - a)
_case("pow_scalar", [X], lambda L, a: a ** 2)
_case("rpow", [X], lambda L, a: 2 ** a)
_case("add_alpha", [X, _n(2, 3)], lambda L, a, b: L.add(a, b, alpha=2), [True, True])
_case("sub_alpha", [X, _n(2, 3)], lambda L, a, b: L.sub(a, b, alpha=2), [False, True])
_case("addcmul", [X, _n(2, 3), _n(2, 3)], lambda L, a, b, c: a.addcmul(b, c, value=2), [True, False, True])
_case("addcdiv", [X, _n(2, 3), _p(2, 3)], lambda L, a, b, c: a.addcdiv(b, c), [True, True, True])
_case("lerp", [X, _n(2, 3)], lambda L, a, b: a.lerp(b, 0.3), [True, True])
_case("lerp_tensor", [X, _n(2, 3), _p(2, 3)], lambda L, a, b, w: a.lerp(b, w), [True, False, True])
_case("clamp_tensor", [X, _n(2, 3)], lambda L, a, b: a.clamp(min=b), [True, True])
_case("clamp_min_tensor", [X, _n(2, 3)], lambda L, a, b: a.clamp_min(b), [True, True])

_case("mean_subtracted", [X], lambda L, a: a - a.mean())
_case("inplace_relu", [X], lambda L, a: (a * 1).relu_())
_case("inplace_mul", [X, _n(2, 3)], lambda L, a, b: (a * 1).mul_(b), [True, True])
_case("inplace_clamp", [X], lambda L, a: (a * 1).clamp_(0, 1))


def _index(like, values):
    """An int64 index tensor of ``like``'s library."""
    return (torch if isinstance(like, torch.Tensor) else ember).tensor(values)


def L_atleast(tensor, rank):
    """``torch.atleast_<rank>d`` of ``tensor``'s library."""
    return getattr(torch if isinstance(tensor, torch.Tensor) else ember, f"atleast_{rank}d")(tensor)


def _seeded(L):
    L.manual_seed(0)
    return L


def _mlp(L):
    return _seeded(L).nn.Sequential(L.nn.Linear(3, 4), L.nn.ReLU(), L.nn.Linear(4, 2)).double()

_case("fill", [X], lambda L, a: L.fill(a * 1, 2.0))
_case("fill_", [X], lambda L, a: (a * 1).fill_(2.0))
_case("fill_tensor_", [X, numpy.array(2.0)], lambda L, a, v: (a * 1).fill_(v), [True, True])
_case("zero_", [X], lambda L, a: (a * 1).zero_())
_case("copy_", [X, _n(2, 3)], lambda L, a, s: (a * 1).copy_(s), [True, True])
_case("copy_constant", [X, _n(2, 3)], lambda L, a, s: (a * 1).copy_(s))
_case("setitem_number", [X], lambda L, a: _set(a * 1, 0, 2.0))
_case("setitem_tensor", [X, _n(3)], lambda L, a, v: _set(a * 1, 0, v), [True, True])
_case("setitem_slice", [X, _n(2, 2)], lambda L, a, v: _set(a * 1, (slice(None), slice(1, None)), v), [True, True])
_case("setitem_mask", [X], lambda L, a: _set(a * 1, a > 0, 0.0))
_case("setitem_other_dtype", [X, _n(3)], lambda L, a, v: _set(a.detach().clone(), 0, v.float()), [False, True])
_case("view_mul_", [X], lambda L, a: _view_op(a, lambda v: v.mul_(2))[1])
_case("view_mul_base", [X], lambda L, a: _view_op(a, lambda v: v.mul_(2))[0])
_case("view_add_", [X, _n(3)], lambda L, a, s: _view_op(a, lambda v: v.add_(s))[0], [True, True])
_case("view_zero_", [X], lambda L, a: _view_op(a, lambda v: v.zero_(), (slice(None), 0))[0])
_case("view_clamp_", [X], lambda L, a: _view_op(a, lambda v: v.clamp_(0, 1))[0])


def _set(tensor, key, value):
    tensor[key] = value
    return tensor


def _view_op(a, op, key=0):
    base = a * 1
    view = base[key]
    op(view)
    return base, view


def ember_or_torch_var_mean(L, a):
    return L.var_mean(a, 1)[0]


@pytest.mark.parametrize("case", list(CASES))
def test_graph_shape_matches_torch(case):
    arrays, grads, function = CASES[case]
    shapes = []
    for L in (torch, ember):
        leaves = [L.tensor(a, requires_grad=g) if a.dtype.kind == "f" else L.tensor(a) for a, g in zip(arrays, grads)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shapes.append(_shape(function(L, *leaves).grad_fn, leaves))
    assert shapes[1] == shapes[0]


def test_linear_weight_shows_under_a_transpose_node():
    """Linear's weight is listed under ``TBackward0``, as PyTorch's addmm takes ``weight.t()``; the same node on every
    read, and gradients still reach the leaves."""
    x, w, b = (ember.ones(2, 3, requires_grad=True), ember.ones(4, 3, requires_grad=True),
               ember.ones(4, requires_grad=True))
    node = ember.nn.functional.linear(x, w, b).grad_fn
    transposed = node.next_functions[2][0]
    assert transposed is node.next_functions[2][0]
    assert transposed.name() == "TBackward0" and transposed.next_functions[0][0].variable is w
    ember.nn.functional.linear(x, w, b).sum().backward()
    assert w.grad.tolist() == [[2.0] * 3] * 4 and b.grad.tolist() == [2.0] * 4


def test_custom_function_lists_its_tensor_arguments_only():
    """A Function's node lists its tensor arguments (``(None, 0)`` for one needing no gradient), not its other
    arguments, as PyTorch's."""
    shapes = []
    for L in (torch, ember):
        class Scale(L.autograd.Function):
            @staticmethod
            def forward(ctx, x, factor, y, nothing):
                return x * factor + y

            @staticmethod
            def backward(ctx, grad):
                return grad, None, grad, None

        x = L.ones(2, requires_grad=True)
        shapes.append(_shape(Scale.apply(x, 3, L.ones(2), None).grad_fn, [x]))
    assert shapes[1] == shapes[0]
    assert len(shapes[1][2]) == 2


def test_composite_node_keeps_its_gradients():
    """A loss built from several ops lists the loss's inputs; backward still runs through what it recorded."""
    x = ember.tensor([[0.5, -1.0], [2.0, 0.0]], requires_grad=True)
    t = ember.tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    loss = ember.nn.functional.mse_loss(x, t)
    assert [f.variable for f, _ in loss.grad_fn.next_functions] == [x, t]
    loss.backward()
    tx, tt = (torch.tensor(v.detach().numpy(), requires_grad=True) for v in (x, t))
    torch.nn.functional.mse_loss(tx, tt).backward()
    numpy.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    numpy.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy())


def _saved(node, leaves):
    """A node's ``_saved_*`` attributes: tensors by the leaf they are (or their shape), other values as they are."""
    values = {}
    for name in dir(node):
        if name.startswith("_saved_"):
            value = getattr(node, name)
            if hasattr(value, "shape") and hasattr(value, "dtype"):
                value = next((("leaf", i) for i, leaf in enumerate(leaves) if leaf is value),
                             ("tensor", tuple(value.shape)))
            values[name] = value
    return values


SAVED = ["mse_loss_mean", "mse_loss_both_sum", "smooth_l1_loss_none", "huber_loss_mean", "binary_cross_entropy_mean",
         "binary_cross_entropy_with_logits_none", "soft_margin_loss_sum", "multi_margin_loss", "activation_relu",
         "activation_sigmoid", "activation_tanh", "softmax", "log_softmax", "cat", "cat_three", "view", "reshape",
         "sum", "sum_dim", "add", "add_one", "bmm", "pow", "mean_subtracted", "mean", "mean_dim", "squeeze",
         "unsqueeze", "flatten", "reshape_transposed", "reshape_alias"]


@pytest.mark.parametrize("case", SAVED)
def test_saved_attributes_match_torch(case):
    """The ``_saved_*`` attributes PyTorch's node shows (names, the very input tensors, the arguments' values)."""
    arrays, grads, function = CASES[case]
    saved = []
    for L in (torch, ember):
        leaves = [L.tensor(a, requires_grad=g) if a.dtype.kind == "f" else L.tensor(a) for a, g in zip(arrays, grads)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            saved.append(_saved(function(L, *leaves).grad_fn, leaves))
    assert saved[1] == saved[0]


def test_saved_tensors_of_a_composite_node_are_freed_by_backward():
    """After backward, a loss node's saved tensors raise PyTorch's error (they are let go), its numbers remain."""
    for L in (torch, ember):
        x = L.ones(2, 3, requires_grad=True)
        loss = L.nn.functional.mse_loss(x, L.zeros(2, 3))
        assert loss.grad_fn._saved_self is x
        loss.backward()
        assert loss.grad_fn._saved_reduction == 1
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            loss.grad_fn._saved_self


def test_a_leaf_has_one_accumulator_with_pytorchs_hooks():
    """A leaf's AccumulateGrad is the same object from every graph while held; its prehook sees (and may replace)
    the gradient before it accumulates, its hook ``((), (grad,))`` after; removing them stops both."""
    calls = {}
    for L in (torch, ember):
        x = L.ones(2, requires_grad=True)
        first = (x * 2).grad_fn.next_functions[0][0]
        seen = []
        assert (x * 3).grad_fn.next_functions[0][0] is first
        assert first.variable is x and first._sequence_nr() == 2 ** 64 - 1 and first.metadata == {}
        pre = first.register_prehook(lambda grads: (seen.append(("pre", grads[0].tolist())), (grads[0] * 10,))[1])
        post = first.register_hook(lambda inputs, grads: seen.append(("post", inputs, grads[0].tolist())))
        (x * 2).sum().backward()
        seen.append(x.grad.tolist())
        pre.remove()
        post.remove()
        (x * 2).sum().backward()
        seen.append(x.grad.tolist())
        calls[L] = seen
    assert calls[ember] == calls[torch]
