"""FlopCounterMode beside PyTorch's: totals, per-module and per-op counts, tables, formulas, custom formulas."""
import contextlib
import importlib
from math import prod

import numpy as np
import pytest
import torch
from torch.utils import flop_counter as torch_flop_counter

import ember
from ember.autograd.function import dispatch_hooks
from ember.utils import flop_counter


def _counter(lib):
    return importlib.import_module(lib.__name__ + ".utils.flop_counter").FlopCounterMode


def _plain(counts):
    """Counts with PyTorch's op packets as their names (``aten.mm``), which are ember's keys."""
    return {module: {str(op): flops for op, flops in ops.items()} for module, ops in counts.items()}


def _op_counts(lib, fn, arrays, requires_grad):
    tensors = [lib.tensor(a).requires_grad_(requires_grad) for a in arrays]
    with _counter(lib)(display=False) as counter:
        out = fn(lib, *tensors)
        if requires_grad:
            out.sum().backward()
    return _plain(counter.get_flop_counts())


def _r(*shape):
    return np.random.default_rng(sum(shape) + len(shape)).standard_normal(shape).astype(np.float32)


def _f(lib):
    return lib.nn.functional


OPS = {
    "mm": (lambda L, a, b: L.mm(a, b), [_r(3, 4), _r(4, 5)]),
    "mv": (lambda L, a, b: L.mv(a, b), [_r(3, 4), _r(4)]),
    "dot": (lambda L, a, b: L.dot(a, b), [_r(4), _r(4)]),
    "matmul-1d-2d": (lambda L, a, b: L.matmul(a, b), [_r(4), _r(4, 5)]),
    "matmul-3d-1d": (lambda L, a, b: L.matmul(a, b), [_r(2, 3, 4), _r(4)]),
    "matmul-3d-2d": (lambda L, a, b: L.matmul(a, b), [_r(2, 3, 4), _r(4, 5)]),
    "matmul-3d-2d-strided": (lambda L, a, b: L.matmul(a.transpose(0, 1), b), [_r(3, 2, 4), _r(4, 5)]),
    "matmul-2d-3d": (lambda L, a, b: L.matmul(a, b), [_r(3, 4), _r(2, 4, 5)]),
    "matmul-1d-3d": (lambda L, a, b: L.matmul(a, b), [_r(4), _r(2, 4, 5)]),
    "matmul-broadcast": (lambda L, a, b: a @ b, [_r(2, 1, 3, 4), _r(1, 3, 4, 5)]),
    "bmm": (lambda L, a, b: L.bmm(a, b), [_r(2, 3, 4), _r(2, 4, 5)]),
    "addmm": (lambda L, c, a, b: L.addmm(c, a, b), [_r(5), _r(3, 4), _r(4, 5)]),
    "addmv": (lambda L, c, a, b: L.addmv(c, a, b), [_r(3), _r(3, 4), _r(4)]),
    "addbmm": (lambda L, c, a, b: L.addbmm(c, a, b), [_r(3, 5), _r(2, 3, 4), _r(2, 4, 5)]),
    "baddbmm": (lambda L, c, a, b: L.baddbmm(c, a, b), [_r(2, 3, 5), _r(2, 3, 4), _r(2, 4, 5)]),
    "outer": (lambda L, a, b: L.outer(a, b), [_r(3), _r(4)]),
    "tensordot": (lambda L, a, b: L.tensordot(a, b, dims=2), [_r(2, 3, 4), _r(3, 4, 5)]),
    "tensordot-full": (lambda L, a, b: L.tensordot(a, b, dims=2), [_r(3, 4), _r(3, 4)]),
    "inner": (lambda L, a, b: L.inner(a, b), [_r(2, 4), _r(3, 4)]),
    "inner-vectors": (lambda L, a, b: L.inner(a, b), [_r(4), _r(4)]),
    "multi_dot": (lambda L, a, b, c: L.linalg.multi_dot([a, b, c]), [_r(4), _r(4, 5), _r(5, 3)]),
    "einsum-batched": (lambda L, a, b: L.einsum("bhqd,bhkd->bhqk", a, b), [_r(2, 3, 4, 5), _r(2, 3, 6, 5)]),
    "einsum-chain": (lambda L, a, b, c: L.einsum("ij,jk,kl->il", a, b, c), [_r(2, 3), _r(3, 4), _r(4, 5)]),
    "einsum-summed": (lambda L, a, b: L.einsum("bij,bjk->b", a, b), [_r(2, 3, 4), _r(2, 4, 5)]),
    "einsum-diagonal": (lambda L, a, b: L.einsum("ii,ij->j", a, b), [_r(3, 3), _r(3, 4)]),
    "einsum-outer": (lambda L, a, b: L.einsum("i,j->ij", a, b), [_r(3), _r(4)]),
    "einsum-ellipsis": (lambda L, a, b: L.einsum("...ij,jk", a, b), [_r(2, 3, 4), _r(4, 5)]),
    "linear": (lambda L, a, w: _f(L).linear(a, w), [_r(3, 4), _r(5, 4)]),
    "linear-3d": (lambda L, a, w, b: _f(L).linear(a, w, b), [_r(2, 3, 4), _r(5, 4), _r(5)]),
    "linear-3d-strided": (lambda L, a, w, b: _f(L).linear(a.transpose(0, 1), w, b), [_r(3, 2, 4), _r(5, 4), _r(5)]),
    "linear-4d": (lambda L, a, w, b: _f(L).linear(a, w, b), [_r(2, 2, 3, 4), _r(5, 4), _r(5)]),
    "linear-1d": (lambda L, a, w, b: _f(L).linear(a, w, b), [_r(4), _r(5, 4), _r(5)]),
    "conv2d": (lambda L, x, w, b: _f(L).conv2d(x, w, b, stride=2, padding=1), [_r(2, 3, 8, 8), _r(4, 3, 3, 3), _r(4)]),
    "conv2d-groups-dilation": (lambda L, x, w: _f(L).conv2d(x, w, groups=2, dilation=2),
                               [_r(2, 4, 9, 9), _r(6, 2, 3, 3)]),
    "conv2d-same": (lambda L, x, w: _f(L).conv2d(x, w, padding="same"), [_r(1, 2, 6, 6), _r(3, 2, 3, 3)]),
    "conv1d-unbatched": (lambda L, x, w: _f(L).conv1d(x, w), [_r(3, 8), _r(4, 3, 3)]),
    "conv3d": (lambda L, x, w: _f(L).conv3d(x, w, stride=(1, 2, 1)), [_r(1, 2, 5, 5, 5), _r(3, 2, 2, 2, 2)]),
    "conv_transpose1d": (lambda L, x, w: _f(L).conv_transpose1d(x, w, stride=3), [_r(2, 3, 5), _r(3, 4, 3)]),
    "conv_transpose2d": (lambda L, x, w: _f(L).conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
                         [_r(2, 3, 5, 5), _r(3, 4, 3, 3)]),
    "conv_transpose2d-groups-bias": (
        lambda L, x, w, b: _f(L).conv_transpose2d(x, w, b, stride=2, groups=3, dilation=2),
        [_r(2, 6, 5, 5), _r(6, 2, 3, 3), _r(6)]),
    # PyTorch's CPU flash kernel has no formula: 4-D, no dropout, equal head widths
    "sdpa-flash": (lambda L, q, k, v: _f(L).scaled_dot_product_attention(q, k, v),
                   [_r(2, 4, 8, 16), _r(2, 4, 10, 16), _r(2, 4, 10, 16)]),
    "sdpa-gqa": (lambda L, q, k, v: _f(L).scaled_dot_product_attention(q, k, v, enable_gqa=True),
                 [_r(2, 4, 8, 16), _r(2, 2, 10, 16), _r(2, 2, 10, 16)]),
    # ... the math path's bmm's otherwise
    "sdpa-3d": (lambda L, q, k, v: _f(L).scaled_dot_product_attention(q, k, v),
                [_r(4, 8, 16), _r(4, 10, 16), _r(4, 10, 16)]),
    "sdpa-value-width": (lambda L, q, k, v: _f(L).scaled_dot_product_attention(q, k, v),
                         [_r(2, 4, 8, 16), _r(2, 4, 10, 16), _r(2, 4, 10, 12)]),
    "sdpa-broadcast-batch": (lambda L, q, k, v: _f(L).scaled_dot_product_attention(q, k, v),
                             [_r(2, 4, 8, 16), _r(1, 4, 10, 16), _r(1, 4, 10, 16)]),
    "sdpa-3d-mask": (lambda L, q, k, v, m: _f(L).scaled_dot_product_attention(q, k, v, attn_mask=m),
                     [_r(2, 4, 8, 16), _r(2, 4, 10, 16), _r(2, 4, 10, 16), _r(4, 8, 10)]),
    "avg_pool2d": (lambda L, x: _f(L).avg_pool2d(x, 2), [_r(1, 2, 4, 4)]),
}


@pytest.mark.parametrize("requires_grad", [False, True], ids=["forward", "forward+backward"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_op_counts_match_torch(name, requires_grad):
    fn, arrays = OPS[name]
    assert _op_counts(ember, fn, arrays, requires_grad) == _op_counts(torch, fn, arrays, requires_grad)


def _mlp(nn):
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 4)), (8,)


def _cnn(nn):
    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2), nn.ReLU(),
                nn.Conv2d(8, 6, 3, padding=2, dilation=2, bias=False))
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(6 * 4 * 4, 10))

        def forward(self, x):
            return self.head(self.features(x))
    return CNN(), (3, 16, 16)


def _deconv(nn):
    return nn.Sequential(nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
                         nn.ConvTranspose2d(6, 2, 4, groups=2, dilation=2, bias=False)), (4, 5, 5)


def _encoder(nn):
    return nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0), (5, 16)


def _encoder_batch_first(nn):
    return nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True), (5, 32)


def _attention_weights(nn):
    class Attend(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(16, 4)

        def forward(self, x):
            return self.attn(x, x, x, need_weights=True)[0]
    return Attend(), (6, 16)


def _decoder(nn):
    class Decode(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.TransformerDecoderLayer(16, 2, 32, dropout=0.0, norm_first=True)

        def forward(self, x):
            return self.layer(x, x)
    return Decode(), (5, 16)


MODELS = {"mlp": _mlp, "cnn": _cnn, "conv-transpose": _deconv, "transformer-encoder": _encoder,
          "attention-weights": _attention_weights, "transformer-decoder": _decoder,
          "transformer-encoder-batch-first": _encoder_batch_first}
_SEQUENCE_FIRST = ("transformer-encoder", "attention-weights", "transformer-decoder")


def _model_counts(lib, name, batch, backward, no_grad=False):
    lib.manual_seed(0)
    model, shape = MODELS[name](lib.nn)
    rng = np.random.default_rng(1)
    if name in _SEQUENCE_FIRST:   # (sequence, batch, features)
        x = lib.tensor(rng.standard_normal((shape[0], batch) + shape[1:]).astype(np.float32))
    else:
        x = lib.tensor(rng.standard_normal((batch,) + shape).astype(np.float32))
    with lib.no_grad() if no_grad else contextlib.nullcontext(), _counter(lib)(display=False, depth=3) as counter:
        out = model(x)
        if backward:
            out.sum().backward()
    return counter


def _module_totals(counts):
    return {module: sum(ops.values()) for module, ops in counts.items()}


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "forward+backward"])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_counts_match_torch(name, batch, backward):
    ours, theirs = (_model_counts(lib, name, batch, backward) for lib in (ember, torch))
    assert ours.get_total_flops() == theirs.get_total_flops() > 0
    ours, theirs = _plain(ours.get_flop_counts()), _plain(theirs.get_flop_counts())
    if name == "transformer-encoder-batch-first" and batch > 1:
        # batch_first self-attention projects ember's contiguous (N, L, E) memory with one addmm; PyTorch's
        # transposed (L, N, E) input takes matmul's folded mm instead: the same FLOPs, split between two keys
        assert _module_totals(ours) == _module_totals(theirs)
    else:
        assert ours == theirs


def test_no_grad_counts_forward_only():
    ours, theirs = (_model_counts(lib, "cnn", 2, False, no_grad=True) for lib in (ember, torch))
    assert _plain(ours.get_flop_counts()) == _plain(theirs.get_flop_counts())


def _parsed(table):
    """The table's rows as (name, FLOP, share), whitespace aside (tabulate 0.10 drops the indentation)."""
    lines = table.splitlines()
    return [tuple(cell.strip() for cell in line.rsplit(None, 2)) for line in lines[2:]], lines[0].split()


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("name", ["mlp", "cnn", "conv-transpose", "transformer-encoder"])
def test_table_matches_torch(name, depth):
    pytest.importorskip("tabulate")   # PyTorch's get_table needs it
    ours, theirs = (_model_counts(lib, name, 3, True).get_table(depth) for lib in (ember, torch))
    assert _parsed(ours) == _parsed(theirs)
    import tabulate
    if tuple(int(part) for part in tabulate.__version__.split(".")[:2]) < (0, 10):   # 0.10 ignores the flag
        assert ours == theirs   # PyTorch sets tabulate.PRESERVE_WHITESPACE: rows indented by depth


def _small_run(lib):
    lib.manual_seed(0)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Sequential(nn.Linear(16, 4)))
    x = lib.randn(3, 8)
    with _counter(lib)(display=False) as counter:
        model(x).sum().backward()
        lib.mm(x, x.t())
    return counter


def test_table_text():
    """PyTorch's layout (tabulate's "simple" format, whitespace kept), written out here so that it is checked
    without tabulate too."""
    counter = _small_run(ember)
    assert counter.get_table() == "\n".join([
        "Module             FLOP    % Total",
        "---------------  ------  ---------",
        "Global             2832    100.00%",
        " - aten.addmm      1152     40.68%",
        " - aten.mm         1680     59.32%",
        " Sequential        2688     94.92%",
        "  - aten.addmm     1152     40.68%",
        "  - aten.mm        1536     54.24%",
        "  Sequential.0     1536     54.24%",
        "   - aten.addmm     768     27.12%",
        "   - aten.mm        768     27.12%",
        "  Sequential.2     1152     40.68%",
        "   - aten.addmm     384     13.56%",
        "   - aten.mm        768     27.12%"])
    with _counter(ember)(display=False) as counter:
        pass
    assert counter.get_table().splitlines() == ["Module      FLOP    % Total", "--------  ------  ---------",
                                                "Global         0         0%"]


def test_table_with_suffixes():
    assert _model_counts(ember, "cnn", 3, True).get_table(1) == "\n".join([
        "Module                            FLOP    % Total",
        "----------------------------  --------  ---------",
        "CNN                           915.840K    100.00%",
        " - aten.convolution           400.896K     43.77%",
        " - aten.addmm                   5.760K      0.63%",
        " - aten.mm                     11.520K      1.26%",
        " - aten.convolution_backward  497.664K     54.34%"])


def test_display_prints_the_table_on_exit(capsys):
    with ember.utils.flop_counter.FlopCounterMode(depth=1) as counter:
        ember.mm(ember.ones(2, 3), ember.ones(3, 4))
    assert capsys.readouterr().out == counter.get_table(1) + "\n"


def test_mods_argument_warns_as_torch():
    with pytest.warns(UserWarning, match="mods argument is not needed anymore"):
        flop_counter.FlopCounterMode(ember.nn.Linear(2, 2), display=False)


def test_inactive_costs_nothing_and_later_backward_is_not_counted():
    a = ember.randn(4, 4, requires_grad=True)
    with flop_counter.FlopCounterMode(display=False) as counter:
        assert len(dispatch_hooks) == 1
        out = ember.mm(a, a)
    assert not dispatch_hooks
    out.sum().backward()
    assert counter.get_flop_counts() == {"Global": {"aten.mm": 128}}


def test_counts_keys_are_torch_names():
    counts = _small_run(ember).get_flop_counts()
    assert set(counts) == {"Global", "Sequential", "Sequential.0", "Sequential.2", "Sequential.2.0"}
    assert all(type(op) is str and op.startswith("aten.") for ops in counts.values() for op in ops)


def test_custom_mapping_replaces_and_adds_formulas():
    def per_element(x_shape, *args, out_shape=None, **kwargs):
        return prod(x_shape)

    def doubled_mm(a_shape, b_shape, *args, out_shape=None, **kwargs):
        return 2 * a_shape[0] * a_shape[1] * b_shape[1]

    def run(lib, gelu, mm):
        x = lib.ones(3, 4)
        with _counter(lib)(display=False, custom_mapping={gelu: per_element, mm: doubled_mm}) as counter:
            lib.nn.functional.gelu(lib.mm(x, x.t()))
        return _plain(counter.get_flop_counts())
    assert run(ember, "aten.gelu", "aten.mm") == run(torch, torch.ops.aten.gelu, torch.ops.aten.mm) == \
        {"Global": {"aten.mm": 72, "aten.gelu": 9}}


class _Scaled(ember.autograd.Function):
    """A custom op: x @ x^T scaled, whose forward runs an mm its formula replaces."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ember.mm(x, x.t()) * 2

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return ember.mm(grad + grad.t(), x) * 2


def test_register_flop_formula_for_a_custom_function():
    @flop_counter.register_flop_formula(_Scaled)
    def scaled_flop(x_shape, out_shape=None, **kwargs):
        return 7 * x_shape[0]

    try:
        with pytest.raises(RuntimeError, match="duplicate registrations"):
            flop_counter.register_flop_formula(_Scaled)(scaled_flop)
        model = ember.nn.Linear(4, 4)
        x = ember.randn(3, 4, requires_grad=True)
        with flop_counter.FlopCounterMode(display=False) as counter:
            _Scaled.apply(model(x)).sum().backward()
        counts = counter.get_flop_counts()
        # the forward counted by the formula, whole; its backward by the ops it runs (an mm of 3x3 by 3x4)
        assert counts["Global"] == {"aten.addmm": 96, _Scaled: 21, "aten.mm": 72 + 192}
        assert counts["Linear"] == {"aten.addmm": 96, "aten.mm": 192}
        assert "test_flop_counter._Scaled" in counter.get_table()
    finally:
        flop_counter.flop_registry.pop(_Scaled)


def test_register_flop_formula_for_a_custom_operator_matches_torch():
    def formula(x_shape, out_shape=None, **kwargs):
        return 7 * x_shape[0] * out_shape[1]

    results = []
    for lib in (torch, ember):
        @lib.library.custom_op("ember_flop_test::scaled", mutates_args=())
        def scaled(x: lib.Tensor) -> lib.Tensor:
            return lib.mm(x, x.t()) * 2

        packet = lib.ops.ember_flop_test.scaled
        importlib.import_module(lib.__name__ + ".utils.flop_counter").register_flop_formula(packet)(formula)
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(4, 4))
        with _counter(lib)(display=False) as counter:
            scaled(model(lib.ones(3, 4)))
        results.append(counter)
    flop_counter.flop_registry.pop(packet)
    theirs, ours = results
    assert _plain(ours.get_flop_counts()) == _plain(theirs.get_flop_counts())
    assert ours.get_flop_counts()["Global"] == {"aten.addmm": 96, packet: 63}
    assert " - ember_flop_test.scaled      63     39.62%" in ours.get_table().splitlines()


def test_register_flop_formula_raw_gets_tensors_and_rejects_other_targets():
    seen = []

    @flop_counter.register_flop_formula("aten.softplus", get_raw=True)
    def softplus_flop(x, *args, out_val=None, **kwargs):
        seen.append((type(x), type(out_val)))
        return x.numel()

    try:
        with flop_counter.FlopCounterMode(display=False) as counter:
            ember.nn.functional.softplus(ember.ones(2, 5))
        assert counter.get_flop_counts() == {"Global": {"aten.softplus": 10}}
        assert seen == [(ember.Tensor, ember.Tensor)]
    finally:
        flop_counter.flop_registry.pop("aten.softplus")
    with pytest.raises(ValueError, match="expected each target"):
        flop_counter.register_flop_formula(len)(softplus_flop)


@pytest.mark.parametrize("name, args, kwargs", [
    ("mm_flop", ((3, 4), (4, 5)), {}), ("addmm_flop", ((5,), (3, 4), (4, 5)), {}),
    ("bmm_flop", ((2, 3, 4), (2, 4, 5)), {}),
    ("baddbmm_flop", ((2, 3, 5), (2, 3, 4), (2, 4, 5)), {}),
    ("conv_flop_count", ((2, 3, 8, 8), (4, 3, 3, 3), (2, 4, 6, 6)), {}),
    ("conv_flop_count", ((2, 3, 5, 5), (3, 4, 3, 3), (2, 4, 11, 11), True), {}),
    ("conv_flop", ((2, 3, 8, 8), (4, 3, 3, 3), None, (1, 1), (0, 0), (1, 1), False), {"out_val": (2, 4, 6, 6)}),
    ("conv_backward_flop", ((2, 4, 6, 6), (2, 3, 8, 8), (4, 3, 3, 3), None, (1, 1), (0, 0), (1, 1), False, (0, 0),
                            1, [True, True, False]), {"out_val": [(2, 3, 8, 8), (4, 3, 3, 3), None]}),
    ("sdpa_flop_count", ((2, 4, 8, 16), (2, 2, 10, 16), (2, 2, 10, 12)), {}),
    ("sdpa_flop", ((2, 4, 8, 16), (2, 4, 10, 16), (2, 4, 10, 16)), {}),
    ("sdpa_backward_flop_count", ((2, 4, 8, 12), (2, 4, 8, 16), (2, 2, 10, 16), (2, 2, 10, 12)), {}),
    ("sdpa_backward_flop", ((2, 4, 8, 16), (2, 4, 8, 16), (2, 4, 10, 16), (2, 4, 10, 16)), {}),
    ("get_suffix_str", (1_010_000_000,), {}), ("convert_num_with_suffix", (1234567, "K"), {}),
    ("convert_to_percent_str", (1, 3), {}), ("convert_to_percent_str", (1, 0), {}), ("normalize_tuple", (3,), {}),
])
def test_formulas_match_torch(name, args, kwargs):
    assert getattr(flop_counter, name)(*args, **kwargs) == getattr(torch_flop_counter, name)(*args, **kwargs)


def _grad_of_input_only(lib):
    # not a leaf: PyTorch's module tracker cannot hook a module's leaf input under autograd.grad
    x = lib.tensor(_r(2, 3, 8, 8), requires_grad=True) * 1
    conv = lib.nn.Conv2d(3, 4, 3, padding=1)
    (grad,) = lib.autograd.grad(lib.nn.functional.linear(conv(x).flatten(1), lib.ones(5, 256)).sum(), x)
    return grad


def _double_backward(lib):
    a, b = lib.tensor(_r(3, 4), requires_grad=True), lib.tensor(_r(4, 5), requires_grad=True)
    (grad,) = lib.autograd.grad(lib.mm(a, b).pow(2).sum(), a, create_graph=True)
    grad.sum().backward()


def _attention_bfloat16(lib, shapes):
    q, k, v = (lib.tensor(_r(*shape)).to(lib.bfloat16).requires_grad_() for shape in shapes)
    lib.nn.functional.scaled_dot_product_attention(q, k, v).float().sum().backward()


@pytest.mark.parametrize("run", [
    _grad_of_input_only, _double_backward,
    lambda lib: _attention_bfloat16(lib, [(2, 4, 8, 16), (2, 4, 10, 16), (2, 4, 10, 16)]),
    lambda lib: _attention_bfloat16(lib, [(4, 8, 16), (4, 10, 16), (4, 10, 16)]),
], ids=["grad-of-input-only", "double-backward", "sdpa-bfloat16-flash", "sdpa-bfloat16-math"])
def test_backward_counts_only_what_the_backward_computes(run):
    """PyTorch's backward kernels compute the gradients their graph task needs (autograd.grad's inputs, a
    second backward through a first one's graph): so are they counted."""
    counts = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        with _counter(lib)(display=False) as counter:
            run(lib)
        counts.append(_plain(counter.get_flop_counts()))
    assert counts[0] == counts[1]


def test_a_backward_that_raises_does_not_silence_later_counts():
    a = ember.randn(3, 3, requires_grad=True)
    with flop_counter.FlopCounterMode(display=False) as counter:
        out = ember.mm(a, a)
        out.grad_fn.register_prehook(lambda grads: 1 / 0)   # after the counter's own pre-hook on that node
        with pytest.raises(ZeroDivisionError):
            out.sum().backward()
        before = counter.get_total_flops()
        ember.mm(a, a @ a).sum().backward()
    assert counter.get_total_flops() - before == 2 * 54 + 2 * 108


@pytest.mark.parametrize("conv, x, w, options", [
    ("conv2d", (1, 2, 5, 5), (3, 2, 3, 3), {}),
    ("conv2d", (2, 2, 7, 7), (3, 2, 3, 3), {"stride": 2, "padding": 1}),
    ("conv2d", (2, 4, 7, 7), (6, 2, 3, 3), {"groups": 2}),
    ("conv1d", (2, 3, 9), (4, 3, 3), {"dilation": 2}),
    ("conv_transpose2d", (2, 3, 4, 4), (3, 2, 3, 3), {"stride": 2}),
    ("conv_transpose2d", (2, 4, 4, 4), (4, 3, 3, 3), {"stride": 2, "groups": 2}),
])
@pytest.mark.parametrize("wrt", ["input", "weight", "both"])
def test_convolution_double_backward_matches_torch(conv, x, w, options, wrt):
    """A gradient penalty: the second backward runs the convolutions of the first one's gradients."""
    counts = []
    for lib in (ember, torch):
        inputs = lib.tensor(_r(*x), requires_grad=True), lib.tensor(_r(*w), requires_grad=True)
        with _counter(lib)(display=False) as counter:
            y = getattr(lib.nn.functional, conv)(*inputs, **options)
            targets = {"input": inputs[:1], "weight": inputs[1:], "both": inputs}[wrt]
            grads = lib.autograd.grad(y.pow(2).sum(), targets, create_graph=True)
            sum(g.pow(2).sum() for g in grads).backward()
        counts.append(_plain(counter.get_flop_counts()))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("name", ["mlp", "cnn", "transformer-encoder"])
def test_traced_module_counts_as_eager(name):
    """A traced graph runs each composite it recorded as that call while the counter is active (it keys on op
    names, as autocast), so ``jit.trace``'s module counts as the module does (PyTorch's traced convolutions count
    as ``aten._convolution``, its eager ones as ``aten.convolution``, as ember's both)."""
    ember.manual_seed(0)
    model, shape = MODELS[name](ember.nn)
    x = ember.tensor(_r(2, *shape))
    counts = []
    for module in (model, ember.jit.trace(model, x, check_trace=False)):
        with flop_counter.FlopCounterMode(display=False) as counter:
            module(x).sum().backward()
        counts.append(counter.get_flop_counts())
    assert counts[0]["Global"] == counts[1]["Global"] and counts[0]["Global"]


def test_attention_on_cuda_counts_the_fused_kernels():
    """On CUDA tensors PyTorch runs its fused kernels, which have formulas (the CPU here: the rule alone, on
    stand-ins for CUDA tensors)."""
    from types import SimpleNamespace

    from ember.utils import _flop_ops

    def cuda(shape, dtype=ember.float32):
        return SimpleNamespace(shape=shape, dtype=dtype, device=SimpleNamespace(type="cuda"), ndim=len(shape))
    q, k, v, out = cuda((2, 4, 8, 16)), cuda((2, 4, 10, 16)), cuda((2, 4, 10, 16)), cuda((2, 4, 8, 16))
    frame = flop_counter._Frame()
    forward, backward = _flop_ops.sdpa_rule((q, k, v), {}, out, frame)
    assert forward == [("aten._scaled_dot_product_efficient_attention", (q.shape, k.shape, v.shape), {}, out.shape)]
    (key, args, kwargs, out_val), = backward(lambda i: i == 0)
    assert key == "aten._scaled_dot_product_efficient_attention_backward"
    assert flop_counter.flop_registry[key](*args, out_val=out_val) == \
        torch_flop_counter.sdpa_backward_flop_count(out.shape, q.shape, k.shape, v.shape)
    assert backward(lambda i: False) == []
    half = [cuda(t.shape, ember.float16) for t in (q, k, v, out)]
    assert _flop_ops.sdpa_rule(tuple(half[:3]), {}, half[3], frame)[0][0][0] == \
        "aten._scaled_dot_product_flash_attention"
