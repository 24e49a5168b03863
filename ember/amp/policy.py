"""PyTorch's autocast op lists, by ATen op name and device type, and the casts each policy makes.

``lower`` ops run in the autocast dtype, ``fp32`` ops in float32, ``promote`` ops in the widest floating type among
their inputs. CUDA also has ``fp32_set_opt_dtype`` (reductions and softmax: float32 output through their ``dtype``
argument), ``fp32_append_dtype`` (``norm``) and ``banned`` (``binary_cross_entropy``).
"""
from .. import _dtype
from .._tensor import Tensor

_CONV = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")

CPU = {
    "lower": _CONV + ("bmm", "mm", "linalg_vecdot", "baddbmm", "addmm", "addbmm", "linear", "matmul", "prelu",
                      "scaled_dot_product_attention",
                      # the recurrent layers: nn.LSTM runs mkldnn_rnn_layer where oneDNN takes it (DECOMPOSED);
                      # nn.RNN's steps run the listed linear on every input, so its results are 16-bit too (nn.GRU's
                      # are not: its state update mixes the float32 state in)
                      "mkldnn_rnn_layer", "rnn_tanh", "rnn_relu"),
    "fp32": ("avg_pool3d", "binary_cross_entropy", "grid_sampler", "polar", "prod", "quantile", "nanquantile", "stft",
             "cdist", "trace", "view_as_complex", "cholesky", "cholesky_inverse", "cholesky_solve", "inverse",
             "lu_solve", "orgqr", "ormqr", "pinverse", "max_pool3d", "max_unpool2d", "max_unpool3d",
             "adaptive_avg_pool3d", "reflection_pad1d", "reflection_pad2d", "replication_pad1d", "replication_pad2d",
             "replication_pad3d", "mse_loss", "cosine_embedding_loss", "nll_loss", "nll_loss2d",
             "hinge_embedding_loss", "poisson_nll_loss", "smooth_l1_loss", "cross_entropy_loss", "l1_loss",
             "huber_loss", "margin_ranking_loss", "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss",
             "ctc_loss", "kl_div", "multilabel_margin_loss", "binary_cross_entropy_with_logits", "fft_fft",
             "fft_ifft", "fft_fft2", "fft_ifft2", "fft_fftn", "fft_ifftn", "fft_rfft", "fft_irfft", "fft_rfft2",
             "fft_irfft2", "fft_rfftn", "fft_irfftn", "fft_hfft", "fft_ihfft", "linalg_cond", "linalg_matrix_rank",
             "linalg_solve", "linalg_cholesky", "linalg_svdvals", "linalg_eigvals", "linalg_eigvalsh", "linalg_inv",
             "linalg_householder_product", "linalg_tensorinv", "linalg_tensorsolve", "fake_quantize_per_tensor_affine",
             "geqrf", "_lu_with_info", "qr", "svd", "triangular_solve", "fractional_max_pool2d",
             "fractional_max_pool3d", "adaptive_max_pool3d", "linalg_qr", "linalg_cholesky_ex", "linalg_svd",
             "linalg_eig", "linalg_eigh", "linalg_lstsq", "linalg_inv_ex"),
    "promote": ("stack", "cat", "index_copy"),
}

CUDA = {
    "lower": _CONV + ("prelu", "addmm", "addmv", "addr", "matmul", "einsum", "mm", "mv", "linalg_vecdot", "linear",
                      "addbmm", "baddbmm", "bmm", "chain_matmul", "linalg_multi_dot", "lstm_cell", "gru_cell",
                      "rnn_tanh_cell", "rnn_relu_cell", "scaled_dot_product_attention",
                      "lstm", "gru", "rnn_tanh", "rnn_relu"),   # the recurrent layers run _cudnn_rnn, listed
    "fp32": ("acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p", "reciprocal", "rsqrt",
             "sinh", "tan", "pow", "softplus", "layer_norm", "group_norm", "frobenius_norm", "nuclear_norm",
             "cosine_similarity", "poisson_nll_loss", "cosine_embedding_loss", "nll_loss", "nll_loss2d",
             "hinge_embedding_loss", "kl_div", "l1_loss", "smooth_l1_loss", "huber_loss", "mse_loss",
             "margin_ranking_loss", "multilabel_margin_loss", "soft_margin_loss", "triplet_margin_loss",
             "multi_margin_loss", "binary_cross_entropy_with_logits", "dist", "pdist", "cdist", "renorm", "logsumexp",
             "upsample_nearest1d", "_upsample_nearest_exact1d", "upsample_nearest2d", "_upsample_nearest_exact2d",
             "upsample_nearest3d", "_upsample_nearest_exact3d", "upsample_linear1d", "upsample_bilinear2d",
             "_upsample_bilinear2d_aa", "upsample_trilinear3d", "upsample_bicubic2d", "_upsample_bicubic2d_aa"),
    "fp32_set_opt_dtype": ("prod", "softmax", "log_softmax", "cumprod", "cumsum", "linalg_vector_norm",
                           "linalg_matrix_norm", "sum"),
    "fp32_append_dtype": ("norm",),
    "promote": ("addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "vdot", "grid_sampler", "index_put",
                "tensordot", "scatter_add"),
    "banned": ("binary_cross_entropy",),
}

POLICIES = {device: {op: policy for policy, ops in table.items() for op in ops}
            for device, table in (("cpu", CPU), ("cuda", CUDA))}
"""device type -> ATen op name -> policy."""

_INTERPOLATE = {"nearest": "upsample_nearest{}d", "nearest-exact": "_upsample_nearest_exact{}d",
                "linear": "upsample_linear{}d", "bilinear": "upsample_bilinear{}d", "bicubic": "upsample_bicubic{}d",
                "trilinear": "upsample_trilinear{}d"}


def _pad(input, pad, mode="constant", value=None):
    kind = {"reflect": "reflection_pad{}d", "replicate": "replication_pad{}d"}.get(mode)
    return kind.format(len(pad) // 2) if kind else None


def _interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                 antialias=False):
    kind = _INTERPOLATE.get(mode)
    if kind is None:
        return None
    op = kind.format(input.ndim - 2)
    return "_" + op + "_aa" if antialias and mode in ("bilinear", "bicubic") else op


def _einsum(equation, *operands):
    """``bmm`` when the equation contracts an index shared by two operands (PyTorch's einsum then runs bmm); the
    equation is a string, or sublists of indices after each operand (``einsum(a, [0, 1], b, [1, 2], [0, 2])``)."""
    if isinstance(equation, str):
        operands = operands[0] if len(operands) == 1 and isinstance(operands[0], (list, tuple)) else operands
        terms, arrow, output = equation.replace(" ", "").partition("->")
        terms = [set(t.replace("...", "")) for t in terms.split(",")]
    else:
        arguments = (equation, *operands)
        operands, terms = arguments[0::2], [set(s) - {Ellipsis} for s in arguments[1::2]]
        arrow, output = len(arguments) % 2, set(arguments[-1]) if len(arguments) % 2 else None
        operands = operands[:len(terms)]
    if len(operands) < 2:
        return None
    if not arrow:
        output = {c for t in terms for c in t if sum(c in u for u in terms) == 1}
    shared = {c for c in set().union(*terms) if sum(c in t for t in terms) > 1}
    return "bmm" if shared - set(output) else None


def _matrix_power(input, n, **kwargs):
    """``mm`` for a power of 2 or more; a negative power runs the inverse (float32) and then its products (16-bit)
    as separate ops, each under its own policy."""
    return "mm" if n >= 2 else PARTS if n < 0 else None


def _chain(*matrices, **kwargs):
    """``mm`` for a product of two or more matrices of one dtype (PyTorch checks the dtypes before multiplying, and
    one matrix is returned as it is)."""
    matrices = matrices[0] if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)) else matrices
    return "mm" if len(matrices) > 1 and len({m.dtype for m in matrices}) == 1 else None


def _tensordot(a, b, dims=2, *args, **kwargs):
    """``mm``, once PyTorch's tensordot has checked its operands share a dtype (it refuses mixed ones uncast), unless
    every dim of both is contracted (a product summed whole, in the inputs' dtype)."""
    if a.dtype is not b.dtype:
        return None
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    count = (1 if isinstance(dims[0], int) else len(dims[0])) if isinstance(dims, (list, tuple)) else int(dims)
    return None if count == a.ndim == b.ndim else "mm"


def _inner(input, other, **kwargs):
    """``mm`` through tensordot for matrices of one dtype; vectors (dot) and scalars (mul) are not cast."""
    if not input.ndim or not other.ndim or input.ndim == other.ndim == 1:
        return None
    return _tensordot(input, other, ([-1], [-1]))


def _lstm(input, *args, **kwargs):
    """``mkldnn_rnn_layer`` where PyTorch's CPU LSTM takes oneDNN's layer: a padded float32 or bfloat16 input and no
    projections. With projections each step's output comes from the listed ``linear`` (16-bit; ember casts the whole
    layer, where PyTorch's cell state stays float32). Otherwise (a packed sequence, a float16 input) its cells run,
    each product cast as it runs."""
    packed = "batch_sizes" in kwargs or (len(args) > 2 and isinstance(args[2], (list, tuple)))
    hx = kwargs.get("hx", args[1 if packed else 0] if len(args) > 1 else None)
    if isinstance(hx, (list, tuple)) and len(hx) == 2 and hx[0].shape[-1] != hx[1].shape[-1]:
        return "linear"
    if packed or input.dtype not in (_dtype.float32, _dtype.bfloat16) or input.numel() == 0:
        return PARTS
    return "mkldnn_rnn_layer"


def _whole(*args, **kwargs):
    """A kernel of its own in PyTorch (ember builds it from einsum): it runs in its inputs' dtypes."""


PARTS = "parts"
"""What ``DECOMPOSED`` names for a call that runs several listed ops: autocast casts each of them as it runs."""


DECOMPOSED = {"pad": _pad, "interpolate": _interpolate, "einsum": _einsum, "tensordot": _tensordot,
              "chain_matmul": _chain, "linalg_multi_dot": _chain,
              "linalg_matrix_power": _matrix_power, "inner": _inner, "bilinear": _whole, "linalg_cross": _whole,
              "affine_grid_generator": lambda *a, **k: "bmm", "lstm": _lstm}
"""Public ops that PyTorch builds from a listed op, or whose op depends on the arguments, where the device's table
does not list them by name: ``DECOMPOSED[name](*args, **kwargs)`` is the listed op a call runs (or None)."""


LISTED = frozenset(POLICIES["cpu"]) | frozenset(POLICIES["cuda"]) | frozenset(DECOMPOSED)
"""The names of every op some policy applies to: each is a composite op of that name at dispatch."""


def policy_of(device_type, name, args, kwargs):
    """The policy for a call of the public op ``name`` on ``device_type``: None when the op is not listed or its call
    runs several listed ops (each is cast as it runs), "opaque" for a decomposed op whose call runs no listed op (it
    runs whole, in its inputs' dtypes)."""
    table = POLICIES[device_type]
    kind = table.get(name)
    if kind is None and name in DECOMPOSED:
        try:
            op = DECOMPOSED[name](*args, **kwargs)
        except (TypeError, AttributeError, IndexError):   # bad arguments: the op itself reports them
            return None
        kind = None if op == PARTS else table.get(op, "opaque")
    return kind


BANNED_MESSAGE = (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
    "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast.")


def eligible(value, device_type):
    """Whether autocast may cast ``value``: a floating, non-float64 tensor on ``device_type``."""
    return (isinstance(value, Tensor) and value.dtype.is_floating_point and value.dtype is not _dtype.float64
            and value.device.type == device_type)


def widest(values, device_type, lower):
    """PyTorch's ``promote`` choice: float32 if any eligible input is float32, else the autocast dtype."""
    current = lower
    for value in values:
        if eligible(value, device_type):
            if value.dtype is _dtype.float32 or current is _dtype.float32:
                current = _dtype.float32
            elif value.dtype is not lower:
                raise RuntimeError("Unexpected floating ScalarType in at::autocast::prioritize")
    return current


def flatten(args, kwargs):
    """The tensors (and other values) among the arguments, looking one level into lists and tuples."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, (list, tuple)):
            yield from value
        else:
            yield value
