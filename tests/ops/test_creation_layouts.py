"""Factories' memory formats against torch: ``empty(memory_format=)``, the ``*_like`` factories keeping a dense
input's layout (``preserve_format``) or taking the one asked for, and ``is_contiguous`` of other ranks."""
import re

import pytest
import torch

import ember


def _inputs(lib):
    base = lib.arange(120.0).reshape(2, 3, 4, 5)
    return {"contiguous": base, "channels_last": base.to(memory_format=lib.channels_last),
            "transposed": lib.arange(12.0).reshape(3, 4).t(), "permuted": base.permute(3, 1, 0, 2),
            "strided": lib.arange(24.0).reshape(4, 6)[:, ::2], "expanded": lib.ones(3, 1).expand(3, 4),
            "size_one": lib.ones(1, 3, 1, 5).permute(0, 2, 3, 1), "scalar": lib.tensor(2.0)}


def _made_as_torch(make):
    """(ember's result, torch's) of ``make(lib)``; None where torch raises, after checking that ember raises the same
    error."""
    try:
        expected = make(torch)
    except RuntimeError as error:
        with pytest.raises(RuntimeError, match="^" + re.escape(str(error)) + "$"):
            make(ember)
        return None
    return make(ember), expected


@pytest.mark.parametrize("kind", sorted(_inputs(torch)))
@pytest.mark.parametrize("factory", ["empty_like", "zeros_like", "ones_like", "full_like"])
@pytest.mark.parametrize("fmt", [None, "preserve_format", "contiguous_format", "channels_last"])
def test_like_factories_lay_out_as_torch(kind, factory, fmt):
    def make(lib):
        x = _inputs(lib)[kind]
        args = (x, 7.0) if factory == "full_like" else (x,)
        kwargs = {} if fmt is None else {"memory_format": getattr(lib, fmt)}
        return getattr(lib, factory)(*args, **kwargs)
    made = _made_as_torch(make)
    if made is None:
        return
    result, expected = made
    assert tuple(result.shape) == tuple(expected.shape) and result.stride() == expected.stride()
    if factory != "empty_like":
        assert result.tolist() == expected.tolist()


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (2, 3, 4), (1, 2, 3, 4, 5)])
@pytest.mark.parametrize("fmt", ["contiguous_format", "channels_last", "channels_last_3d", "preserve_format"])
def test_empty_with_a_memory_format(shape, fmt):
    made = _made_as_torch(lambda lib: lib.empty(shape, memory_format=getattr(lib, fmt)))
    if made is not None:
        assert made[0].stride() == made[1].stride()


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3, 4, 5), (2, 3, 4, 5, 6)])
@pytest.mark.parametrize("fmt", ["channels_last", "channels_last_3d", "contiguous_format"])
def test_is_contiguous_in_a_format_of_another_rank_is_false(shape, fmt):
    assert ember.empty(shape).is_contiguous(memory_format=getattr(ember, fmt)) == \
        torch.empty(shape).is_contiguous(memory_format=getattr(torch, fmt))


@pytest.mark.parametrize("kind", ["contiguous", "channels_last", "transposed", "permuted", "strided"])
@pytest.mark.parametrize("sampler", ["rand_like", "randn_like", "randint_like"])
@pytest.mark.parametrize("fmt", [None, "contiguous_format", "channels_last"])
def test_like_samplers_lay_out_and_draw_as_torch(kind, sampler, fmt):
    """A sampler over a permuted layout draws in memory order: the same seed gives PyTorch's values there too."""
    def make(lib):
        x = _inputs(lib)[kind]
        kwargs = {} if fmt is None else {"memory_format": getattr(lib, fmt)}
        lib.manual_seed(3)
        args = (x, 10) if sampler == "randint_like" else (x,)
        return getattr(lib, sampler)(*args, **kwargs)
    made = _made_as_torch(make)
    if made is None:
        return
    result, expected = made
    assert result.stride() == expected.stride() and result.tolist() == expected.tolist()


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (4, 1, 4, 4), (2, 3, 1, 1), (2, 1, 1, 1), (3, 4)])
@pytest.mark.parametrize("first, then", [("channels_last", "channels_last"), ("channels_last", "contiguous_format"),
                                         ("contiguous_format", "channels_last")])
def test_to_restrides_unless_the_strides_suggest_the_format(shape, first, then):
    """``to(memory_format=)`` copies (ToCopyBackward0) unless the strides already suggest the format, so an
    ambiguous N1HW tensor gets channels-last strides (``contiguous()`` keeps it); 2-D tensors refuse channels_last."""
    results = []
    for lib in (torch, ember):
        x = lib.arange(float(torch.Size(shape).numel())).reshape(shape).requires_grad_()
        try:
            y = x.to(memory_format=getattr(lib, first)) if len(shape) == 4 or first != "channels_last" else x
            z = y.to(memory_format=getattr(lib, then))
        except RuntimeError as error:
            results.append(str(error))
            continue
        results.append((y.stride(), z.stride(), z is y, None if z.grad_fn is None else z.grad_fn.name(),
                         x.contiguous(memory_format=getattr(lib, then)).stride() if len(shape) == 4 else None))
    assert results[1] == results[0]


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("layouts", [("contiguous_format", "contiguous_format"), ("channels_last", "contiguous_format"),
                                     ("contiguous_format", "channels_last")])
def test_convolutions_follow_a_channels_last_input_or_weight(transposed, layouts):
    """A 2-d convolution computes channels-last when its input's or weight's strides suggest it (ConvolutionBackward0
    either way, bias included); 3-d ones stay contiguous."""
    results = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        x, w = lib.randn(2, 3, 5, 5, requires_grad=True), lib.randn(3, 3, 2, 2, requires_grad=True)
        x, w = (t.to(memory_format=getattr(lib, f)) for t, f in zip((x, w), layouts))
        convolve = lib.nn.functional.conv_transpose2d if transposed else lib.nn.functional.conv2d
        out = convolve(x, w, lib.ones(3))
        volume = lib.nn.functional.conv3d(lib.randn(1, 2, 3, 4, 4).to(memory_format=lib.channels_last_3d),
                                          lib.randn(3, 2, 2, 2, 2))
        results.append((out.stride(), out.grad_fn.name(), out.detach().numpy(), volume.stride()))
    assert results[1][:2] == results[0][:2] and results[1][3] == results[0][3]
    assert abs(results[1][2] - results[0][2]).max() < 1e-5


LAYOUT_OPS = {
    "softmax": lambda L, x: x.softmax(1), "log_softmax": lambda L, x: x.log_softmax(-1),
    "softmin": lambda L, x: L.nn.functional.softmin(x, 0), "cumsum": lambda L, x: x.cumsum(1),
    "cumprod": lambda L, x: x.cumprod(2), "logcumsumexp": lambda L, x: x.logcumsumexp(1),
    "instance_norm": lambda L, x: L.nn.functional.instance_norm(x), "rrelu": lambda L, x: L.nn.functional.rrelu(x),
    "logsigmoid": lambda L, x: L.nn.functional.logsigmoid(x), "elu": lambda L, x: L.nn.functional.elu(x),
    "selu": lambda L, x: L.nn.functional.selu(x), "celu": lambda L, x: L.nn.functional.celu(x),
    "softplus": lambda L, x: L.nn.functional.softplus(x), "hardsigmoid": lambda L, x: L.nn.functional.hardsigmoid(x),
    "mish": lambda L, x: L.nn.functional.mish(x), "leaky_relu": lambda L, x: L.nn.functional.leaky_relu(x),
    "sort_values": lambda L, x: x.sort(1)[0], "sort_indices": lambda L, x: x.sort(1)[1].double(),
    "cummax_values": lambda L, x: x.cummax(1)[0], "cummin_indices": lambda L, x: x.cummin(1)[1].double(),
    "local_response_norm": lambda L, x: L.nn.functional.local_response_norm(x, 2),
}


ROW_MAJOR = ("softmax", "log_softmax", "softmin", "cumsum", "cumprod", "logcumsumexp", "instance_norm", "rrelu",
             "logsigmoid", "cummax_values", "cummin_indices")


@pytest.mark.parametrize("op, layout", [(op, "channels_last") for op in LAYOUT_OPS] +
                         [(op, "transposed") for op in ROW_MAJOR])
def test_ops_lay_out_their_results_as_torch(op, layout):
    """Softmax, the cumulative ops, instance norm, rrelu and logsigmoid write row-major results whatever the input's
    layout; ELU and the other pointwise activations keep a channels-last input's layout, as PyTorch's kernels."""
    results = []
    for lib in (torch, ember):
        x = lib.linspace(-2, 2, 120).reshape(2, 4, 3, 5)
        x = x.to(memory_format=lib.channels_last) if layout == "channels_last" else x.transpose(2, 3)
        out = LAYOUT_OPS[op](lib, x.requires_grad_())
        results.append((out.stride(), out.detach().numpy()))
    assert results[1][0] == results[0][0]
    assert abs(results[1][1] - results[0][1]).max() < 1e-5
