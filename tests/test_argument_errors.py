"""Calls with arguments of the wrong types raise PyTorch's TypeError, message included (its argument parser's
``argument 'other' (position 1) must be Tensor, not str``, ``received an invalid combination of arguments``, ...):
each call is run on torch and on ember and the exceptions compared. Where PyTorch lists the signatures it expected,
the first line is compared. Calls whose arguments fit keep the op's own error, and NumPy-keyword forms pickle."""
import io
import pickle

import numpy
import pytest
import torch

import ember

CALLS = [
    't.add("s")',
    't.add([1, 2])',
    'T.add(t, "s")',
    'T.add("s", t)',
    't.mul("s")',
    't.sub("a")',
    't.div("a")',
    't.pow("a")',
    'T.pow(t, "a")',
    't.matmul("a")',
    'T.matmul(t, 3)',
    'T.mm(t, 3)',
    't.mm([1])',
    'T.bmm(t, "a")',
    'T.exp("a")',
    'T.exp([1.0])',
    'T.exp(None)',
    'T.sin(3.0)',
    't.clamp("a")',
    't.clamp(min="a")',
    'T.eq(t, "a")',
    'T.sqrt([4.0])',
    'T.log(2)',
    'T.sigmoid(None)',
    'T.tanh("x")',
    't.sum("a")',
    't.sum(dim="a")',
    't.sum(1.5)',
    't.sum(dim=[0.5])',
    'T.sum(t, "a")',
    'T.sum(t, dim=1, keepdim="a")',
    't.mean("a")',
    't.mean(dim=1.0)',
    't.max("a")',
    't.max(dim=1.5)',
    't.min(dim="x")',
    't.argmax("a")',
    't.argmax(dim=1.0)',
    't.std(dim="a")',
    't.var("a")',
    't.prod("a")',
    't.prod(dim=0.5)',
    't.cumsum("a")',
    't.cumsum(dim=1.5)',
    't.softmax("a")',
    't.softmax(dim=1.5)',
    'T.softmax(t, "a")',
    't.log_softmax(1.0)',
    't.all("a")',
    't.any(dim=1.5)',
    't.logsumexp("a")',
    't.view("a")',
    't.view(2.0, 3)',
    't.view([2.0, 3])',
    't.view(None)',
    't.reshape("a")',
    't.reshape(2.0, 3)',
    't.reshape((2, "a"))',
    't.permute("a")',
    't.permute(1.0, 0)',
    't.permute([1.0, 0])',
    't.transpose("a", 0)',
    't.transpose(0, 1.0)',
    't.expand("a")',
    't.expand(2.0, 3)',
    't.repeat("a")',
    't.repeat(2.0, 1)',
    't.squeeze("a")',
    't.squeeze(1.0)',
    't.unsqueeze("a")',
    't.unsqueeze(1.0)',
    't.unsqueeze(None)',
    't.flatten("a")',
    't.flatten(0.0)',
    't.narrow("a", 0, 1)',
    't.select(0.0, 1)',
    't.chunk("a")',
    't.split("a")',
    't.flip("a")',
    't.roll("a")',
    't.index_select(0, [0])',
    't.index_select("a", t.long())',
    't.gather(1, [0])',
    't.gather(1.0, t.long())',
    't.topk("a")',
    't.topk(1.5)',
    't.sort("a")',
    't.sort(dim=1.0)',
    'T.cat([t, "a"])',
    'T.cat([t, 1])',
    'T.cat([t, [1, 2]])',
    'T.cat([t, t], "a")',
    'T.cat([t, t], dim=1.0)',
    'T.stack([t, t], dim="a")',
    'T.stack([t, t], 1.0)',
    'T.split(t, "a")',
    'T.zeros(2.0)',
    'T.zeros(2.0, 3)',
    'T.zeros("a")',
    'T.zeros((2, 3.0))',
    'T.zeros([2, None])',
    'T.zeros(None)',
    'T.ones(2, "a")',
    'T.ones(2, device=3.5)',
    'T.empty(1.5)',
    'T.full((2.0,), 1.0)',
    'T.rand(2.0)',
    'T.randn("a")',
    'F.linear(t, "a")',
    'F.linear("a", t)',
    'F.linear(t, t, "a")',
    'F.conv2d(t, "a")',
    'F.layer_norm(t, "a")',
    'F.pad(t, "a")',
    'F.max_pool2d(t.view(1, 1, 2, 3), "a")',
    'F.max_pool2d(t.view(1, 1, 2, 3), 1.5)',
    'F.one_hot([1, 2])',
    'F.one_hot(t.long(), "a")',
    't.add_("s")',
    't.size("a")',
    't.size(1.0)',
    't.new_zeros("a")',
    't.new_zeros(2.0)',
    't.new_ones((2, "a"))',
    't.new_empty(None)',
    't.masked_select([True])',
    't.dot("a")',
    'T.dot(t, [1])',
    'T.max(t, "a")',
    'T.max(t, 1.5)',
    'T.min("a")',
    'T.argmax("a")',
    'T.sort("a")',
    'T.topk(t, "a")',
    'T.squeeze(t, "a")',
    'T.unsqueeze(t, "a")',
    'T.transpose(t, "a", 1)',
    'T.permute(t, "a")',
    'T.narrow(t, "a", 0, 1)',
    'T.gather(t, 1, "a")',
    'T.index_select(t, 0, "a")',
    'T.flip(t, "a")',
    'T.roll(t, 1.5)',
    'T.allclose(t, "a")',
    'T.isclose(t, "a")',
    'T.nonzero("a")',
    'T.chunk(t, "a")',
    'T.broadcast_to(t, "a")',
    'T.bincount("a")',
    'T.histc("a")',
    'T.cumsum(t, "a")',
    'T.mean(t, "a")',
    'T.std(t, "a")',
    'T.var(t, 1.5)',
    'T.log_softmax(t, "a")',
    'T.addmm(t, t, "a")',
    'T.baddbmm(t, "a", t)',
    'T.nn.Linear(2.5, 2)',
    'T.nn.Embedding("a", 2)',
    'T.nn.Linear(3, 2)("a")',
    't.mul_("a")',
    't.div_("a")',
    'T.swapaxes(t, "a", 1)',
    't.ge_("a")',
    'T.concat([t, 1])',
    't.swapdims(0, 1.5)',
    'T.amax(t, "a")',
    't.unflatten("a", (1, 3))',
    'T.argsort(t, "a")',
    'T.cumprod(t, 1.5)',
    'T.kthvalue(t, "a")',
    'T.median(t, "a")',
    'T.logsumexp(t, 1.5)',
    'T.zeros_like("a")',
    'T.zeros_like([1, 2])',
    'T.full_like(t, "a")',
    'T.empty_like(None)',
    'T.ones_like(3)',
    't.new_full((2,), "a")',
    'T.full((2,), "a")',
    'T.full((2,), None)',
    'T.relu("x")',
    'T.floor(1.5)',
    'T.sign("a")',
    'T.flatten("a")',
    'T.ceil([1.0])',
    'T.trunc(2)',
    'T.flatten(t, 0, 1.5)',
    # dtype arguments: a dtype or a Python number type (not a name or a NumPy dtype)
    'T.zeros(2, dtype="float32")',
    'T.ones(2, dtype=numpy.float32)',
    'T.empty(2, dtype="float32")',
    'T.full((2,), 1, dtype="float32")',
    'T.empty_strided((2,), (1,), dtype="float32")',
    'T.zeros_like(t, dtype="float32")',
    'T.full_like(t, 1, dtype="float32")',
    't.new_zeros(2, dtype="float32")',
    't.new_full((2,), 1, dtype="float32")',
    'T.tensor([1], dtype="float32")',
    'T.tensor([1], dtype=numpy.float32)',
    'T.as_tensor([1], dtype="float32")',
    'T.asarray([1], dtype="float32")',
    'T.frombuffer(bytearray(4), dtype="uint8")',
    'T.arange(3, dtype="int64")',
    'T.linspace(0, 1, 3, dtype="float32")',
    'T.logspace(0, 1, 3, dtype="float32")',
    'T.eye(2, dtype="float32")',
    'T.randn(2, dtype="float32")',
    'T.rand_like(t, dtype="float32")',
    't.new_tensor([1], dtype="float32")',
    # sizes are ints, not bools; the samplers' sizes and bounds too; requires_grad is a bool
    'T.zeros(True)',
    't.view(True, 6)',
    'T.ones([True, 2])',
    't.reshape(True)',
    'T.rand([2, 1.5])',
    'T.randn(2, 1.5)',
    'T.randint(0, 5, (2.0,))',
    'T.randint(5.0, (2,))',
    'T.randperm(5.0)',
    'T.zeros(2, requires_grad="a")',
    'T.full((2,), 1.0, requires_grad=1)',
    'T.tensor([1.0], requires_grad="a")',
    'T.randn(2, requires_grad="a")',
    't.requires_grad_("a")',
    't.requires_grad_(None)',
    # integer arguments int() would have truncated
    't.split(1.0)',
    't.split([1.0, 1])',
    'T.split(t, 1.0)',
    't.chunk(2.0)',
    'T.chunk(t, 2.0)',
    't.chunk(True)',
    't.diagonal(0.0)',
    't.unflatten(1, (3.0, 1))',
    't.sum(dtype="float32")',
    'T.sum(t, 1, dtype="float64")',
    't.mean(dtype=numpy.float64)',
    't.prod(dtype="float64")',
    't.cumsum(0, dtype="float64")',
    'T.nansum(t, dtype="float64")',
    't.softmax(0, dtype="float64")',
    't.tile(2.0)',
    't.movedim(0.0, 1)',
    't.movedim(0, 1.0)',
    'T.eye(2.0)',
    'T.eye(2, 3.0)',
    'T.eye(True)',
    'T.rot90(t, 1.5)',
    't.rot90(True)',
    'T.tril(t, 0.5)',
    't.triu(1.5)',
    't.narrow(0, 0.5, 1)',
    't.narrow(0, 0, 1.0)',
    't.select(0, 0.0)',
    't.unfold(0, 1.5, 1)',
    't.unfold(0, 1, True)',
    'T.triu_indices(3, 3, 1.5)',
    'T.tril_indices(3.0, 3)',
    'T.pixel_shuffle(t.reshape(1, 6, 1, 1), 2.0)',
    'F.pixel_unshuffle(t.reshape(1, 1, 2, 3), 1.0)',
    'T.channel_shuffle(t.reshape(1, 6, 1, 1), 2.0)',
    'T.native_channel_shuffle(t.reshape(1, 6, 1, 1), 2.0)',
    'F.native_channel_shuffle(t.reshape(1, 6, 1, 1), "a")',
    'T.tensor_split(t, 1.5)',
    'T.tensor_split(t, [1.5])',
    'T.repeat_interleave(t, 1.5)',
    'F.pad(t, (1.5, 1))',
    'F.pad(t, [1, 2.0])',
    'T.fft.fft(t, 2.5)',
    'T.fft.fft(t, 2, 1.5)',
    'T.fft.ifft(t, "a")',
    'T.fft.rfft(t, norm=3)',
    'T.fft.fftn(t, dim=(0.5,))',
    'T.fft.fft2(t, s=(1.5, 2))',
    'T.fft.rfftn(t, dim=1.5)',
    'T.fft.ihfft2(t, norm=1)',
    'T.linalg.cross(t, t, dim=0.0)',
    'T.linalg.cross(t, t, dim="a")',
    'T.linalg.vector_norm(t, 2, 0.5)',
    'T.linalg.vector_norm(t, 2, (0.5,))',
    'T.linalg.vector_norm(t, "a")',
    'T.linalg.vector_norm(t, 2, 0, "a")',
    'T.linalg.vector_norm(t, 2, dtype="a")',
    't.uniform_(0, 1, 2)',
    't.uniform_(foo=1)',
    't.uniform_(0, **{"from": 1})',
    't.random_(0, 1, 2)',
    't.norm(2, 0, True, 1, 2)',
    'F.cross_entropy(t, t[:, 0].long(), ignore_index=0.5)',
    'F.cross_entropy(t, t[:, 0].long(), ignore_index=True)',
    'F.cross_entropy(t, t[:, 0].long(), label_smoothing="a")',
    'F.nll_loss(t, t[:, 0].long(), ignore_index=0.5)',
    'F.nll_loss(t, t[:, 0].long(), ignore_index="a")',
    # more positional arguments than the op takes, where ember's function takes no more either
    't.unsqueeze(0, 1)',
    't.select(0, 1, 2)',
    't.index_select(0, t.long(), 1)',
    't.narrow(0, 0, 1, 2)',
    't.sum(0, True, 1, 2)',
    't.max(0, True, 1)',
    't.std(0, True, True, 1)',
    't.topk(1, 0, True, True, 1)',
    't.argmax(0, True, 1)',
    't.cumsum(0, None, 1)',
    't.chunk(1, 0, 1)',
    't.matmul(t, t)',
    't.addmm(t, t, 1, 1, 1)',   # one signature: the arguments that do not fit it marked !int!
    't.exp(1)',   # a method of no arguments: CPython's error for PyTorch's C method
    # PyTorch's C types by their full names
    't.to(T.float64, 1, 2, 3, 4, 5)',
    't.to(T.float64, "a")',
    't.add(T.float64)',
    't.add(T.contiguous_format)',
    't.mul(T.device("cpu"))',
    't.sum(T.float64)',
    'T.add(t, T.Size([1]))',
    't.view(T.float64, 1)',
    'T.ones(2, dtype=T.contiguous_format)',
    # memory formats
    't.contiguous(memory_format=3)',
    't.contiguous(memory_format=T.float64)',
    't.is_contiguous(memory_format=1)',
    't.clone(memory_format="a")',
    't.to(memory_format=1)',
    'T.empty(2, memory_format=1)',
    'T.empty_like(t, memory_format=1)',
    'T.zeros_like(t, memory_format="a")',
    't.float(memory_format=1)',
    't.double(memory_format="a")',
    # no size at all
    'T.zeros()',
    'T.ones()',
    'T.empty()',
    'T.rand()',
    'T.randn()',
    't.new_zeros()',
    't.new_empty()',
    # nn.functional's forms that call the Tensor method (positions counted without the input)
    'F.softmax(t, 0.5)',
    'F.softmax(t, dim=0.5)',
    'F.softmax(t, 1, dtype=0.5)',
    'F.log_softmax(t, "a")',
    'T.softmax(t, 0.5)',
    'T.log_softmax(t, 0.5)',
    't.softmax(0, 1, 2)',
    't.log_softmax(0, None, 2)',
    # the vector norm F.normalize and Tensor.norm reach
    'F.normalize(t, 2, 1.0)',
    'F.normalize(t, dim=0.5)',
    't.norm(2, 1.0)',
    't.norm(1, "a")',
    'T.norm(t, 2, 0.5, True)',
    # F.interpolate hands a size that is no int to its mode's kernel
    'F.interpolate(t[None], size=2.5)',
    'F.interpolate(t[None], size=2.0, mode="linear")',
    'F.interpolate(t[None, None], size=2.5, mode="bilinear")',
    'F.interpolate(t[None, None], size=2.5, mode="bicubic")',
    'F.interpolate(t[None, None], size=2.5, mode="area")',
    'F.interpolate(t[None, None], size=2.5, mode="nearest-exact")',
    'F.interpolate(t[None, None, None], size=2.5, mode="trilinear")',
    # F.embedding's padding_idx and max_norm, as its Python form checks them and hands them on
    'F.embedding(t.long(), t, padding_idx=1.5)',
    'F.embedding(t.long(), t, padding_idx=True)',
    'F.embedding(t.long(), t, padding_idx="a")',
    'F.embedding(t.long(), t, padding_idx=5)',
    'F.embedding(t.long(), t, padding_idx=-3)',
    'F.embedding(t.long(), t, max_norm="a")',
    'F.embedding(t.long(), t, max_norm=1.0, norm_type="a")',
    'T.embedding(t, t.long(), 1.5)',
    # PyTorch's Python methods: CPython's binding errors, named Tensor.<method>
    't.backward(1, 2, 3, 4, 5)',
    't.backward(foo=1)',
    't.register_post_accumulate_grad_hook(1, 2)',
    # nn.functional's Python forms bind as Python functions; gelu's approximate is keyword-only
    'F.layer_norm(t)',
    'F.pad(t)',
    'F.relu6(t, False, 1)',
    'F.gelu(t, "x")',
    'F.gelu(t, "tanh", 1)',
    'F.gelu(t, approximate=1)',
    'T.arange()',
    'T.einsum()',
    # Scalars print as Number; softmin's dim reaches softmax's check
    'F.softplus(t, "a")',
    'F.softplus(t, 1, "a")',
    'F.softshrink(t, "a")',
    'F.leaky_relu(t, "a")',
    'F.elu_(t.clone(), "a")',
    'F.softmin(t, "a")',
    'F.softmin(t, 1.5)',
    'F.elu(t, "a")',
    'F.elu(t, None)',
    'F.celu(t, "a")',
    'F.leaky_relu(t, "0.5")',
    # flags that are no bools (PyTorch's parser refuses them; they were taken as truthy)
    't.softmax(0, "a")',
    't.argmax(0, "a")',
    'T.argmax(t, 0, "a")',
    't.argmin(None, "a")',
    't.logsumexp(0, "a")',
    't.std(0, "a")',
    't.var(0, "a")',
    'T.var(t, 0, "a")',
    't.sort(0, "a")',
    'T.sort(t, 0, "a")',
    't.sort(descending=1)',
    # F's losses hand target and weight to their native op
    'F.cross_entropy(t, "a")',
    'F.cross_entropy(t, None)',
    'F.cross_entropy(t, t[:, 0].long(), [1.0, 2.0, 3.0])',
    'F.nll_loss(t, 1.5)',
    'F.nll_loss(t, t[:, 0].long(), "a")',
    # Tensor.type's own checks
    't.type("a")',
    't.type("torch.float32")',
    't.type(1.5)',
    't.type(float)',
    't.fill_("a")',
    't.fill_(None)',
    'T.fill(t, [1])',
    # F's own checks, and numbers where the op takes tensors (they were accepted)
    'F.hardtanh(t, 1.5)',
    'F.hardtanh(t, "a")',
    'F.rrelu(t, 1.5)',
    'F.rrelu(t, "a")',
    'T.rrelu(t, 1.5)',
    'F.pairwise_distance(t, 1.5)',
    'F.pairwise_distance(1.5, t)',
    't.median(0, "a")',
    'T.median(t, 0, 1)',
    't.nanmedian(0, "a")',
    't.mode(0, "a")',
    't.kthvalue(1, 0, "a")',
    'T.full(3, 1.0)',
    'T.full(size=3, fill_value=1.0)',
    't.new_full(3, 1.0)',
    't.renorm(2, maxnorm=1.0)',
    'T.renorm(t, dim=0)',
    't.unique(dim=1.5)',
    't.unique(dim=True, sorted=False)',
    't.unique_consecutive(dim=[0])',
    'T.unique_consecutive(t, True, False, 0.5)',
    't.unique("C")',
    'T.unique(t, "C")',
    't.unique(return_counts=1)',
    'T.unique(t, "C", dim=0)',
    't.unique(return_inverse=1, dim=1)',
    't.unique_consecutive("C")',
    'T.unique_consecutive(t, return_counts="a")',
    't.qr("C")',
    'T.addcmul(t, t, t, value=T.tensor([2.0]))',
    'T.addcdiv(t, t, t, value=T.tensor([[2.0]]))',
    't.clone().addcmul_(t, t, value=T.tensor([2.0]))',
    't.clone().addcdiv_(t, t, value=T.tensor([2.0]))',
    'T.qr(t, 1)',
    't.svd("C")',
    'T.svd(t, True, 1)',
    't.split(1.5, 0.5)',
    't.split(True, None)',
    't.atan2_("a")',
    't.hypot_(other="a")',
    't.greater_("a")',
    't.acos_("a")',
    't.exp_(dim=0)',
    't.round_(0, 1)',
    't.clamp_min_(dim=0)',
]


def _raised(lib, call):
    T, F, t = lib, lib.nn.functional, lib.arange(6.0).reshape(2, 3)  # noqa: F841 (names the calls use)
    with pytest.raises(Exception) as error:
        eval(call)  # noqa: S307 (the calls above)
    return error.value


@pytest.mark.parametrize("call", CALLS)
def test_wrong_argument_types_raise_torchs_error(call):
    expected, got = _raised(torch, call), _raised(ember, call)
    assert type(got) is type(expected)
    assert str(got) == str(expected)


@pytest.mark.parametrize("call", ["T.sum(t, 5)", "t.unsqueeze(4)", "T.cat([t, t[0]])", "t.view(4, 2)",
                                  "T.zeros(-1)", "t.permute(0)", "T.adaptive_max_pool1d(t.to(T.complex64), 1)",
                                  "T.frexp(t, out=(t, t))", "t.split(0)", "T.linalg.norm(t, 'a')"])
def test_calls_that_fit_keep_the_ops_own_error(call):
    expected, got = _raised(torch, call), _raised(ember, call)
    assert type(got) is type(expected)


@pytest.mark.parametrize("dtype", ["float32", numpy.float64])
def test_conversions_refuse_dtypes_that_are_not_torchs(dtype):
    """Tensor.to takes a dtype or a Python number type: PyTorch refuses names and NumPy dtypes (a TypeError; its
    message lists to()'s signatures)."""
    for lib in (torch, ember):
        with pytest.raises(TypeError):
            lib.ones(2).to(dtype=dtype)
    assert ember.ones(2).to(float).dtype is ember.float64 and ember.ones(2).to(dtype=int).dtype is ember.int64


@pytest.mark.parametrize("call", ["t.to(1.5)", "t.to(True)", "t.to(2 + 1j)", "t.to(numpy.float32(1.5))",
                                  "t.to(numpy.bool_(True), True)", "t.to(numpy.float64(2.5))", "t.to(1.5, copy=True)",
                                  "t.to(1.5, non_blocking=True)"])
def test_to_takes_a_number_as_the_tensor_of_its_kind(call):
    """PyTorch's parser makes a bool, float or complex the ``other`` tensor of ``to(other, non_blocking, copy)``:
    a CPU scalar of a Python number's kind (bool, float64, complex128), float64 for a NumPy scalar."""
    def run(lib):
        t = lib.arange(6.0).reshape(2, 3)  # noqa: F841 (named by the call)
        result = eval(call)  # noqa: S307 (the calls above)
        return str(result.dtype).rpartition(".")[2], result.tolist()

    assert run(ember) == run(torch)


@pytest.mark.parametrize("name", ["float", "double", "half", "bfloat16"])
def test_converters_lay_out_in_memory_format(name):
    """``Tensor.float(memory_format=...)`` and its kin convert and lay out the result in the format."""
    def run(lib):
        t = lib.arange(6.0).view(1, 2, 3, 1)
        return [getattr(t, name)(memory_format=fmt).stride() for fmt in (lib.channels_last, lib.contiguous_format)]

    assert run(ember) == run(torch)


def test_integer_like_dims_and_sizes_pass():
    t = ember.arange(6.0).reshape(2, 3)
    for dim in (numpy.int64(1), numpy.int32(-1)):
        assert t.sum(dim).shape == (2,)
    assert ember.zeros(numpy.int32(2), ember.tensor(3)).shape == (2, 3)
    # PyTorch's parser refuses a bool only as the first size
    assert ember.ones(2, False).shape == torch.ones(2, False).shape == (2, 0)
    assert t.view(6, True).shape == torch.ones(6).view(6, True).shape == (6, 1)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "softmax", "zeros", "cat", "std"])
def test_numpy_keyword_forms_pickle_as_themselves(name):
    function = getattr(ember, name)
    assert pickle.loads(pickle.dumps(function)) is function
    method = getattr(ember.Tensor, name, function)
    assert pickle.loads(pickle.dumps(method)) is method
    buffer = io.BytesIO()
    ember.save({"f": function}, buffer)
    buffer.seek(0)
    assert torch.load(buffer, weights_only=False)["f"] is getattr(torch, name)


def test_functional_errors_after_an_error_raised_before_nn_functional_loaded():
    """The parser's table of op functions is built on the first error; nn.functional loads on first use, and its
    functions' errors must be PyTorch's also when that first error came before (a test order once hid them)."""
    import subprocess
    import sys
    code = ("import sys, ember\nassert 'ember.nn.functional' not in sys.modules\n"
            "try:\n    ember.ones(2, 3, 4).permute(0, 1)\nexcept RuntimeError:\n    pass\n"
            "import ember.nn.functional as F\n"
            "try:\n    F.linear(ember.ones(2, 3), 'a')\nexcept Exception as error:\n"
            "    print(type(error).__name__, error)\n")
    ours = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    expected = _raised(torch, 'F.linear(t, "a")')
    assert ours == f"{type(expected).__name__} {expected}"


@pytest.mark.parametrize("name", ["linalg.slogdet", "slogdet"])
def test_slogdet_writes_out_as_torch(name):
    """``out=`` of (sign, logabsdet): the tensors given are filled and returned in PyTorch's ``*_out`` structseq."""
    def run(lib):
        function = lib.linalg.slogdet if name == "linalg.slogdet" else lib.slogdet
        out = (lib.empty(0), lib.empty(0))
        result = function(lib.tensor([[2.0, 1.0], [1.0, 3.0]]), out=out)
        return result[0] is out[0] and result[1] is out[1], type(result).__name__.endswith("_out"), \
            [float(v) for v in out]

    assert run(ember) == run(torch)


def test_tensor_norm_takes_torchs_method_arguments():
    """``Tensor.norm(p, dim, keepdim, dtype)``: the method has no ``out``, so its fourth positional is the dtype."""
    def run(lib):
        t = lib.arange(6.0).reshape(2, 3)
        result = t.norm(2, 0, True, lib.float64)
        return str(result.dtype).rpartition(".")[2], result.tolist(), pickle.loads(pickle.dumps(lib.Tensor.norm)) \
            is lib.Tensor.norm

    assert run(ember) == run(torch)


def test_tensor_softmax_takes_its_dtype_by_position():
    """``Tensor.softmax(dim, dtype)``: the method has no ``_stacklevel``, so its second positional is the dtype."""
    def run(lib):
        t = lib.arange(6.0).reshape(2, 3)
        return [str(r.dtype).rpartition(".")[2] for r in (t.softmax(0, lib.float64), t.log_softmax(1, lib.float64),
                                                          lib.nn.functional.softmax(t, 0, 3, lib.float64))]

    assert run(ember) == run(torch) == ["float64"] * 3
