"""torch.nn.utils differences found by the nn.utils sweep, each compared with PyTorch: nn.utils.rnn's argument
checks, packing refusals, PackedSequence.to/cpu and unpad_sequence's masks; clipping (the norms of 16-bit
gradients, the foreach path and its refusals, clip_grads_with_norm_'s coefficient on 16-bit gradients);
parameters_to_vector's views and devices and ``.data =`` of an integer tensor on a parameter; the conv weights'
memory format (resize_ in a format); pruning with a bool amount."""
import numpy
import pytest
import torch.nn.utils.prune  # noqa: F401 (import torch does not load it)

from tests.oracle import same_outcome


def t(lib, shape, seed=0, dtype="float32", requires_grad=False):
    values = numpy.random.default_rng(seed).uniform(-2, 2, shape)
    return lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=requires_grad)


def rnn(lib):
    return lib.nn.utils.rnn


@pytest.mark.parametrize("shape,lengths", [((0, 2), [1, 1]), ((3, 0, 2), []), ((3, 2, 0), [2, 1]),
                                           ((3, 2), 2), ((3, 2), [[2, 1]])])
def test_pack_padded_sequence_refusals(shape, lengths):
    """ember packed empty tensors (or failed on their indices) and flattened lengths of other ranks; PyTorch
    refuses both."""
    same_outcome(lambda lib: rnn(lib).pack_padded_sequence(lib.zeros(shape), lengths).data)


@pytest.mark.parametrize("total_length", [4.0, True, 4])
def test_pad_packed_sequence_total_length_type(total_length):
    same_outcome(lambda lib: rnn(lib).pad_packed_sequence(rnn(lib).pack_padded_sequence(lib.ones(3, 2), [3, 2]),
                                                          total_length=total_length)[0])


@pytest.mark.parametrize("others", [[1, 2], ["a"], [None]])
def test_pad_sequence_of_non_tensors(others):
    same_outcome(lambda lib: rnn(lib).pad_sequence([lib.ones(2)] + others))
    same_outcome(lambda lib: rnn(lib).pad_sequence(others))


@pytest.mark.parametrize("args,kwargs", [((), {"device": "cpu", "copy": True}), (("float64",), {"copy": True}),
                                         (("float64",), {}), (("float32",), {"copy": True}), ((), {"copy": False})])
def test_packed_sequence_to_copy(args, kwargs):
    """PyTorch parses a converting PackedSequence.to's arguments with _parse_to, which refuses copy=True (a
    conversion that changes nothing returns the sequence before that)."""
    def run(lib):
        packed = rnn(lib).pack_padded_sequence(t(lib, (3, 3, 2)), [3, 1, 2], enforce_sorted=False)
        moved = packed.to(*(getattr(lib, a) for a in args), **kwargs)
        return f"{moved is packed} {moved.data.dtype} {moved.sorted_indices.tolist()} {moved.batch_sizes.tolist()}"
    same_outcome(lambda lib: run(lib).replace(lib.__name__, "torch"))


def gradients(lib, dtype, special=None):
    rng = numpy.random.default_rng(0)
    params = []
    for shape in [(3, 4), (5,), (2, 2, 2)]:
        param = lib.nn.Parameter(lib.tensor(rng.uniform(-1, 1, shape), dtype=getattr(lib, dtype)))
        param.grad = lib.tensor(rng.uniform(-3, 3, shape), dtype=getattr(lib, dtype))
        params.append(param)
    return params


@pytest.mark.parametrize("norm_type", [2.5, 3, 1, float("inf")])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_clip_grad_norm_of_16_bit_gradients(norm_type, dtype):
    """ember raised 16-bit gradients to the power in their own precision; PyTorch's vector_norm accumulates in
    float32 and rounds once."""
    def run(lib):
        params = gradients(lib, dtype)
        norm = lib.nn.utils.clip_grad_norm_(params, max_norm=1.5, norm_type=norm_type)
        return [norm] + [p.grad for p in params]
    same_outcome(run)


@pytest.mark.parametrize("tensors", ["int", "none", "mixed"])
def test_get_total_norm_inputs(tensors):
    """An integer tensor gets vector_norm's refusal; None in the list AttributeError on its device; a float64
    tensor among float32 ones is stacked by dtype groups and promoted."""
    def run(lib):
        given = {"int": [lib.ones(3, dtype=lib.int64)], "none": [None, lib.ones(3)],
                 "mixed": [lib.ones(3), t(lib, 4, 1, "float64"), t(lib, 2, 2)]}[tensors]
        return lib.nn.utils.get_total_norm(given, 3.0)
    same_outcome(run)


def test_clip_grads_with_norm_of_a_number():
    """A Python number as total_norm reaches torch.clamp, which refuses it with TypeError."""
    same_outcome(lambda lib: lib.nn.utils.clip_grads_with_norm_(gradients(lib, "float32"), 2.0, 5.0))


def test_parameters_to_vector_views():
    """PyTorch views each parameter as one row (a transposed one fails); a meta parameter beside a CPU one is no
    device mismatch for its check (both host devices), so cat refuses it."""
    same_outcome(lambda lib: lib.nn.utils.parameters_to_vector([lib.arange(6.).view(2, 3).t()]))
    same_outcome(lambda lib: lib.nn.utils.parameters_to_vector([lib.ones(2), lib.ones(2, device="meta")]))
    same_outcome(lambda lib: lib.nn.utils.vector_to_parameters(numpy.ones(3), [lib.ones(3)]))


@pytest.mark.parametrize("dtype", ["int64", "bool", "float64", "complex64", "bfloat16"])
def test_data_of_a_parameter_set_to_another_dtype(dtype):
    """``.data =`` a tensor that cannot require gradients is refused on one that does (vector_to_parameters of an
    integer vector); float and complex data are taken."""
    def run(lib):
        param = lib.nn.Parameter(lib.ones(2))
        lib.nn.utils.vector_to_parameters(lib.ones(2, dtype=getattr(lib, dtype)), [param])
        return param
    same_outcome(run)


@pytest.mark.parametrize("memory_format", ["channels_last", "contiguous_format", "preserve_format",
                                           "channels_last_3d"])
@pytest.mark.parametrize("module", ["Conv2d", "ConvTranspose2d", "Conv3d"])
def test_convert_weight_memory_format(memory_format, module):
    """PyTorch resizes the cloned weight in the format, which refuses preserve_format (ember took it); strides as
    torch's."""
    def run(lib):
        conv = getattr(lib.nn, module)(2, 3, 2)
        convert = lib.nn.utils.convert_conv3d_weight_memory_format if module == "Conv3d" else \
            lib.nn.utils.convert_conv2d_weight_memory_format
        convert(conv, getattr(lib, memory_format))
        return f"{conv.weight.stride()} {conv.weight.is_contiguous()}"
    same_outcome(run)


@pytest.mark.parametrize("memory_format", ["channels_last", "contiguous_format", "preserve_format",
                                           "channels_last_3d"])
@pytest.mark.parametrize("size", [(2, 3, 2, 2), (1, 3, 2, 2), (2, 3, 1, 2, 2)])
def test_resize_in_memory_format(memory_format, size):
    """resize_ lays the kept elements out in the format (it ignored the argument)."""
    def run(lib):
        x = lib.arange(30.)
        x.resize_(size, memory_format=getattr(lib, memory_format))
        return f"{x.stride()} {x.flatten().tolist()}"
    same_outcome(run)


@pytest.mark.parametrize("call", ["norm", "value"])
@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_foreach_on_meta(call, foreach):
    """PyTorch takes the foreach path on CPU and CUDA only: foreach=True on meta gradients is refused."""
    def run(lib):
        param = lib.nn.Parameter(lib.ones(3, device="meta"))
        param.grad = lib.ones(3, device="meta")
        clip = lib.nn.utils.clip_grad_norm_ if call == "norm" else lib.nn.utils.clip_grad_value_
        result = clip([param], 1.0, foreach=foreach)
        return str(None if result is None else (tuple(result.shape), result.device.type))
    same_outcome(run)


@pytest.mark.parametrize("norm_type", ["inf", "-inf", 2.0])
@pytest.mark.parametrize("foreach", [None, False])
def test_clip_grad_norm_of_an_empty_gradient(norm_type, foreach):
    """The foreach norm (the default on the CPU) has its own message for the infinity norm of nothing."""
    def run(lib):
        param = lib.nn.Parameter(lib.zeros(0))
        param.grad = lib.zeros(0)
        return lib.nn.utils.clip_grad_norm_([param], 1.0, norm_type, foreach=foreach)
    same_outcome(run)


@pytest.mark.parametrize("kwargs", [{"memory_format": "preserve_format"}, {"dtype": "float64"}, {}])
def test_packed_sequence_cpu_arguments(kwargs):
    def run(lib):
        packed = rnn(lib).pack_sequence([lib.ones(2), lib.ones(1)], enforce_sorted=False)
        moved = packed.cpu(**{k: getattr(lib, v) for k, v in kwargs.items()})
        return [moved.data, moved.sorted_indices]
    same_outcome(run)


def test_weight_norm_of_an_uninitialized_parameter():
    same_outcome(lambda lib: lib.nn.utils.weight_norm(lib.nn.LazyLinear(3)).weight_g)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("foreach", [None, False])
def test_clip_grads_with_norm_of_16_bit_gradients(dtype, foreach):
    """The float32 clip coefficient multiplies 16-bit gradients as PyTorch's kernel reads a 0-d tensor: in float32,
    rounded once (ember rounded the coefficient to 16 bits first)."""
    def run(lib):
        params = gradients(lib, dtype)
        lib.nn.utils.clip_grads_with_norm_(params, 2.0, lib.tensor(5.0), foreach)
        return [p.grad for p in params]
    same_outcome(run)


@pytest.mark.parametrize("op", ["mul", "div", "mul_", "div_", "rmul"])
@pytest.mark.parametrize("scalar_dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_16_bit_tensor_by_a_0d_tensor(op, scalar_dtype, dtype):
    def run(lib):
        x = t(lib, (40,), 3, dtype)
        scalar = lib.tensor(0.3999999 if scalar_dtype.startswith("float") else 3, dtype=getattr(lib, scalar_dtype))
        if op == "rmul":
            return scalar * x
        return getattr(x, op)(scalar)
    same_outcome(run)


PAD_SEQUENCE_CALLS = {
    "trailing_broadcast": lambda lib: rnn(lib).pad_sequence([lib.ones(2, 3), lib.full((1,), 2.0)]),
    "trailing_mismatch": lambda lib: rnn(lib).pad_sequence([lib.ones(2, 3), lib.ones(1, 2)]),
    "more_dims": lambda lib: rnn(lib).pad_sequence([lib.ones(2), lib.ones(1, 3)]),
    "scalar_later": lambda lib: rnn(lib).pad_sequence([lib.ones(2), lib.tensor(1.0)]),
    "batch_first_int": lambda lib: rnn(lib).pad_sequence([lib.ones(2), lib.ones(1)], batch_first=1),
    "padding_value_complex": lambda lib: rnn(lib).pad_sequence([lib.ones(2), lib.ones(1)], padding_value=1j),
    "padding_value_str": lambda lib: rnn(lib).pad_sequence([lib.ones(2), lib.ones(1)], padding_value="x"),
    "padding_value_1d": lambda lib: rnn(lib).pad_sequence([lib.ones(2), lib.ones(1)], padding_value=lib.ones(1)),
    "padding_value_0d": lambda lib: rnn(lib).pad_sequence([lib.ones(2), lib.ones(1)], padding_value=lib.tensor(3.)),
    "padding_side_none": lambda lib: rnn(lib).pad_sequence([lib.ones(2), lib.ones(1)], padding_side=None),
    "not_tensors": lambda lib: rnn(lib).pad_sequence([lib.ones(2), 3]),
}


@pytest.mark.parametrize("call", list(PAD_SEQUENCE_CALLS))
def test_pad_sequence_arguments(call):
    """PyTorch copies each sequence into the padded output (broadcasting it, with copy_'s errors) after its binding
    checked the argument types (TypeError); ember refused trailing dims that broadcast and let wrong types through
    to other errors."""
    same_outcome(PAD_SEQUENCE_CALLS[call])


def packed(lib, batch_sizes, data=None):
    return rnn(lib).PackedSequence(lib.arange(6.).view(3, 2) if data is None else data, batch_sizes)


PACKING_CALLS = {
    "batch_sizes_int32": lambda lib: rnn(lib).pad_packed_sequence(packed(lib, lib.tensor([2, 1], dtype=lib.int32))),
    "batch_sizes_float": lambda lib: rnn(lib).pad_packed_sequence(packed(lib, lib.tensor([2.0, 1.0]))),
    "batch_sizes_2d": lambda lib: rnn(lib).pad_packed_sequence(packed(lib, lib.tensor([[2, 1]]))),
    "batch_sizes_empty": lambda lib: rnn(lib).pad_packed_sequence(packed(lib, lib.tensor([], dtype=lib.int64),
                                                                         lib.zeros(0, 2))),
    "pad_batch_first_int": lambda lib: rnn(lib).pad_packed_sequence(packed(lib, lib.tensor([2, 1])), batch_first=1),
    "pad_padding_value_str": lambda lib: rnn(lib).pad_packed_sequence(packed(lib, lib.tensor([2, 1])),
                                                                      padding_value="x"),
    "pad_total_length_numpy": lambda lib: rnn(lib).pad_packed_sequence(packed(lib, lib.tensor([2, 1])),
                                                                       total_length=numpy.int64(3)),
    "pack_input_list": lambda lib: rnn(lib).pack_padded_sequence([[1.0, 2.0]], [1, 1]),
    "pack_input_list_unsorted": lambda lib: rnn(lib).pack_padded_sequence([[1.0, 2.0]], [1, 1],
                                                                          enforce_sorted=False),
    "pack_batch_first_int": lambda lib: rnn(lib).pack_padded_sequence(lib.ones(3, 2), [3, 1], batch_first=1),
    "pack_lengths_strings": lambda lib: rnn(lib).pack_padded_sequence(lib.ones(3, 2), ["a", "b"]),
    "pack_lengths_none": lambda lib: rnn(lib).pack_padded_sequence(lib.ones(3, 2), None),
    "pack_1d_batch_first": lambda lib: rnn(lib).pack_padded_sequence(lib.ones(3), [1, 1, 1], batch_first=True),
}


@pytest.mark.parametrize("call", list(PACKING_CALLS))
def test_packing_arguments(call):
    """The bindings' type errors, batch sizes that are not a 1-D int64 tensor, and as_tensor's errors for lengths."""
    same_outcome(lambda lib: PACKING_CALLS[call](lib)[0])


@pytest.mark.parametrize("lengths", [[2, 3], [-1, 1], [5, 1], [3, 1, 1], [3]])
@pytest.mark.parametrize("batch_first", [True, False])
def test_unpad_sequence_by_mask(lengths, batch_first):
    """PyTorch selects each sequence's steps with a mask (copies; a negative length selects none, a long one all)
    and zips strictly (ember sliced views)."""
    def run(lib):
        padded = t(lib, (2, 3, 2) if batch_first else (3, 2, 2))
        pieces = rnn(lib).unpad_sequence(padded, lib.tensor(lengths), batch_first=batch_first)
        return [*pieces, lib.tensor([piece._base is None for piece in pieces])]
    same_outcome(run)


def test_unpad_sequence_of_a_list_of_lengths():
    same_outcome(lambda lib: rnn(lib).unpad_sequence(lib.ones(3, 2), [3, 1]))


@pytest.mark.parametrize("method", ["l1_unstructured", "random_unstructured", "ln_structured", "random_structured"])
@pytest.mark.parametrize("amount", [True, False])
def test_prune_amount_bool(method, amount):
    """A bool amount is an integral amount; the unstructured methods hand it to topk, which refuses a bool k."""
    def run(lib):
        module = lib.nn.Linear(5, 4)
        with lib.no_grad():
            module.weight.copy_(t(lib, (4, 5)))
        extra = {"n": 2, "dim": 0} if method == "ln_structured" else {"dim": 0} if method == "random_structured" \
            else {}
        getattr(lib.nn.utils.prune, method)(module, "weight", amount, **extra)
        return module.weight_mask
    same_outcome(run)
