"""Layers call their functions through the public namespaces as PyTorch's do, so a ``__torch_function__`` subclass
or mode (DTensor, a user's logging tensor, FX) sees them: under a TorchFunctionMode, every module class ember.nn
shares with torch.nn makes the calls torch 2.13's makes, in the same order."""
import inspect
import warnings

import numpy
import pytest
import torch

import ember

LAYERS = {"Embedding(6, 4)": "embedding", "LayerNorm(4)": "layer_norm", "RMSNorm(4)": "rms_norm",
          "BatchNorm1d(3)": "batch_norm", "GroupNorm(1, 3)": "group_norm", "InstanceNorm1d(3)": "instance_norm",
          "LocalResponseNorm(2)": "local_response_norm", "Dropout(0.5)": "dropout", "Dropout1d(0.5)": "dropout1d",
          "AlphaDropout(0.5)": "alpha_dropout", "Sigmoid()": "sigmoid", "Tanh()": "tanh", "Softsign()": "softsign",
          "Tanhshrink()": "tanhshrink", "LogSigmoid()": "logsigmoid"}


def _calls(lib, made):
    layer = eval(made, vars(lib.nn))
    inputs = lib.tensor([[0, 5, 2]]) if made.startswith("Embedding") else lib.ones(2, 3, 4)
    seen = []

    class Recorder(lib.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append(getattr(func, "__name__", str(func)).replace("log_sigmoid", "logsigmoid"))
            return func(*args, **(kwargs or {}))

    with Recorder():
        layer(inputs)
    return seen


@pytest.mark.parametrize("made", LAYERS)
def test_layer_calls_its_public_function(made):
    assert LAYERS[made] in _calls(torch, made)
    assert LAYERS[made] in _calls(ember, made)


# --- every shared module class: the whole sequence of calls ----------------------------------------------------

def R(*shape, low=-1.0, high=1.0):
    """A float32 input of ``shape``, uniform in [low, high)."""
    return ("uniform", shape, low, high)


def N(*shape, high=3):
    """An int64 input of ``shape`` in [0, high)."""
    return ("integers", shape, high)


def V(values):
    """An input of these values."""
    return ("values", values)


X3, X4, X5 = R(2, 3, 4), R(2, 3, 4, 4), R(2, 3, 4, 4, 4)
PROBS, CLASSES, SIGNS = R(2, 3, low=0.1, high=0.9), N(2), V([[1.0, -1, 1], [-1, 1, 1]])
ENCODER_LAYER = "TransformerEncoderLayer(4, 2, 8, dropout=0.0)"
DECODER_LAYER = "TransformerDecoderLayer(4, 2, 8, dropout=0.0)"

# constructor -> the forward's inputs ("unpool": a max pool's output and indices)
MODULES = {
    "AdaptiveAvgPool1d(2)": [X3], "AdaptiveAvgPool2d(2)": [X4], "AdaptiveAvgPool3d(2)": [X5],
    "AdaptiveMaxPool1d(2)": [X3], "AdaptiveMaxPool2d(2)": [X4], "AdaptiveMaxPool3d(2)": [X5],
    "AdaptiveLogSoftmaxWithLoss(4, 6, [2, 4])": [R(2, 4), N(2, high=6)], "AlphaDropout(0.5)": [X3],
    "AvgPool1d(2)": [X3], "AvgPool2d(2)": [X4], "AvgPool3d(2)": [X5], "BCELoss()": [PROBS, PROBS],
    "BCEWithLogitsLoss()": [R(2, 3), PROBS], "BatchNorm1d(3)": [X3], "BatchNorm2d(3)": [X4], "BatchNorm3d(3)": [X5],
    "Bilinear(3, 4, 2)": [R(2, 3), R(2, 4)], "CELU()": [X3], "CTCLoss()": [R(5, 2, 4), N(2, 3), V([5, 5]), V([3, 2])],
    "ChannelShuffle(3)": [R(2, 6, 4)], "CircularPad1d(1)": [X3], "CircularPad2d(1)": [X4], "CircularPad3d(1)": [X5],
    "ConstantPad1d(1, 0.5)": [X3], "ConstantPad2d(1, 0.5)": [X4], "ConstantPad3d(1, 0.5)": [X5],
    "Conv1d(3, 2, 2)": [X3], "Conv2d(3, 2, 2)": [X4], "Conv3d(3, 2, 2)": [X5], "ConvTranspose1d(3, 2, 2)": [X3],
    "ConvTranspose2d(3, 2, 2)": [X4], "ConvTranspose3d(3, 2, 2)": [X5],
    "CosineEmbeddingLoss()": [R(2, 3), R(2, 3), V([1, -1])], "CosineSimilarity()": [R(2, 3), R(2, 3)],
    "CrossEntropyLoss()": [R(2, 3), CLASSES], "CrossMapLRN2d(2)": [X4], "Dropout(0.5)": [X3], "Dropout1d(0.5)": [X3],
    "Dropout2d(0.5)": [X4], "Dropout3d(0.5)": [X5], "ELU()": [X3], "Embedding(6, 4)": [N(1, 3, high=6)],
    "EmbeddingBag(6, 4)": [N(2, 3, high=6)], "FeatureAlphaDropout(0.5)": [X4], "Flatten()": [X3],
    "Fold((3, 3), 2)": [R(2, 12, 4)], "FractionalMaxPool2d(2, output_size=2)": [X4],
    "FractionalMaxPool3d(2, output_size=2)": [X5], "GELU()": [X3], "GLU()": [R(2, 4)], "GRU(4, 3)": [X3],
    "GRUCell(3, 2)": [R(2, 3)], "GaussianNLLLoss()": [R(2, 3), R(2, 3), PROBS], "GroupNorm(1, 3)": [X3],
    "Hardshrink()": [X3], "Hardsigmoid()": [X3], "Hardswish()": [X3], "Hardtanh()": [X3],
    "HingeEmbeddingLoss()": [R(2, 3), SIGNS], "HuberLoss()": [X3, X3], "Identity()": [X3],
    "InstanceNorm1d(3)": [X3], "InstanceNorm2d(3)": [X4], "InstanceNorm3d(3)": [X5],
    "KLDivLoss(reduction='batchmean')": [R(2, 3), PROBS], "L1Loss()": [X3, X3], "LPPool1d(2, 2)": [X3],
    "LPPool2d(2, 2)": [X4], "LPPool3d(2, 2)": [X5], "LSTM(4, 3)": [X3], "LSTMCell(3, 2)": [R(2, 3)],
    "LayerNorm(4)": [X3], "LazyBatchNorm1d()": [X3], "LazyBatchNorm2d()": [X4], "LazyBatchNorm3d()": [X5],
    "LazyConv1d(2, 2)": [X3], "LazyConv2d(2, 2)": [X4], "LazyConv3d(2, 2)": [X5], "LazyConvTranspose1d(2, 2)": [X3],
    "LazyConvTranspose2d(2, 2)": [X4], "LazyConvTranspose3d(2, 2)": [X5], "LazyInstanceNorm1d()": [X3],
    "LazyInstanceNorm2d()": [X4], "LazyInstanceNorm3d()": [X5], "LazyLinear(2)": [X3], "LeakyReLU()": [X3],
    "Linear(4, 2)": [X3], "LinearCrossEntropyLoss(4, 3)": [R(2, 4), CLASSES], "LocalResponseNorm(2)": [X3],
    "LogSigmoid()": [X3], "LogSoftmax(1)": [X3], "MSELoss()": [X3, X3],
    "MarginRankingLoss()": [R(3), R(3), V([1, -1, 1])], "MaxPool1d(2)": [X3], "MaxPool2d(2)": [X4],
    "MaxPool3d(2)": [X5], "MaxUnpool1d(2)": "unpool", "MaxUnpool2d(2)": "unpool", "MaxUnpool3d(2)": "unpool",
    "Mish()": [X3], "MultiLabelMarginLoss()": [R(2, 3), V([[0, 2, -1], [1, -1, 0]])],
    "MultiLabelSoftMarginLoss()": [R(2, 3), V([[0.0, 1, 1], [1, 0, 0]])], "MultiMarginLoss()": [R(2, 3), CLASSES],
    "MultiheadAttention(4, 2)": [X3, X3, X3], "MultiheadAttention(4, 2, batch_first=True)": [X3, X3, X3],
    "NLLLoss()": [R(2, 3), CLASSES], "NLLLoss2d()": [R(2, 3, 2, 2), N(2, 2, 2)], "PReLU()": [X3],
    "PairwiseDistance()": [R(2, 3), R(2, 3)],
    "PixelShuffle(2)": [R(2, 4, 2, 2)], "PixelUnshuffle(2)": [X4], "PoissonNLLLoss()": [R(2, 3), PROBS],
    "RMSNorm(4)": [X3], "RNN(4, 3)": [X3], "RNNCell(3, 2)": [R(2, 3)], "RReLU()": [X3], "ReLU()": [X3],
    "ReLU6()": [X3], "ReflectionPad1d(1)": [X3], "ReflectionPad2d(1)": [X4], "ReflectionPad3d(1)": [X5],
    "ReplicationPad1d(1)": [X3], "ReplicationPad2d(1)": [X4], "ReplicationPad3d(1)": [X5], "SELU()": [X3],
    "Sequential(Linear(4, 3), ReLU())": [X3], "SiLU()": [X3], "Sigmoid()": [X3], "SmoothL1Loss()": [X3, X3],
    "SoftMarginLoss()": [R(2, 3), SIGNS], "Softmax(1)": [X3], "Softmax2d()": [X4], "Softmin(1)": [X3],
    "Softplus()": [X3], "Softshrink()": [X3], "Softsign()": [X3], "SyncBatchNorm(3)": [X3], "Tanh()": [X3],
    "Tanhshrink()": [X3], "Threshold(0.1, 20.0)": [X3],
    "Transformer(4, 2, 1, 1, 8, dropout=0.0)": [X3, X3], DECODER_LAYER: [X3, X3], ENCODER_LAYER: [X3],
    f"TransformerEncoder({ENCODER_LAYER}, 2, enable_nested_tensor=False)": [X3],
    f"TransformerDecoder({DECODER_LAYER}, 2)": [X3, X3], "TripletMarginLoss()": [R(2, 3), R(2, 3), R(2, 3)],
    "TripletMarginWithDistanceLoss()": [R(2, 3), R(2, 3), R(2, 3)], "Unflatten(1, (3, 1))": [X3],
    "Unfold(2)": [X4], "Upsample(scale_factor=2)": [X3], "UpsamplingBilinear2d(scale_factor=2)": [X4],
    "UpsamplingNearest2d(scale_factor=2)": [X4], "ZeroPad1d(1)": [X3], "ZeroPad2d(1)": [X4], "ZeroPad3d(1)": [X5],
}
NOT_CALLED = {"Module": "abstract base", "Container": "deprecated base", "RNNBase": "base of RNN/LSTM/GRU",
              "RNNCellBase": "base of the cells", "ModuleList": "no forward", "ModuleDict": "no forward",
              "ParameterList": "no forward", "ParameterDict": "no forward",
              "DataParallel": "needs CUDA devices (without them it calls the module itself, which is covered)"}
# PyTorch's Python layers query shapes and properties for their checks (dim, size, __get__ of attributes such as
# Tensor.shape), which ember's make inside the ops; those queries are not the layer's computation.
QUERIES = {"Tensor.dim", "Tensor.size", "Tensor.is_contiguous", "Tensor.numel", "Tensor.__int__", "__get__",
           "__set__", "_set_grad_enabled"}
# the same functions under other __name__s: torch's F.threshold is def _threshold, its F.logsigmoid is log_sigmoid
ALIASES = {"_threshold": "threshold", "log_sigmoid": "logsigmoid"}


def _input(lib, spec, rng):
    if spec[0] == "uniform":
        return lib.tensor(rng.uniform(spec[2], spec[3], spec[1]).astype(numpy.float32))
    if spec[0] == "integers":
        return lib.tensor(rng.integers(0, spec[2], spec[1]))
    return lib.tensor(spec[1])


def _name(func):
    """``func``'s name as the mode reports it; a Tensor method as ``Tensor.<name>``."""
    name = getattr(func, "__name__", None) or type(func).__name__
    owner = (getattr(func, "__qualname__", "") or "").rpartition(".")[0]
    if owner in ("Tensor", "TensorBase", "_TensorBase"):
        return "Tensor." + name
    return ALIASES.get(name, name)


def _recording(lib):
    """A TorchFunctionMode of ``lib`` that appends the name of each call it sees to its ``seen`` list (``with
    _recording(lib) as seen:``)."""
    seen = []

    class Recorder(lib.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append(_name(func))
            return func(*args, **(kwargs or {}))

        def __enter__(self):
            super().__enter__()
            return seen
    return Recorder()


def _sequence(lib, made, training):
    """The calls (less shape queries) a TorchFunctionMode sees in one forward of ``made`` built in ``lib``."""
    rng = numpy.random.default_rng(0)
    lib.manual_seed(0)
    with warnings.catch_warnings():   # NLLLoss2d's deprecation, Transformer's nested-tensor note
        warnings.simplefilter("ignore")
        layer = eval(made, vars(lib.nn)).train(training)
    specs = MODULES[made]
    if specs == "unpool":
        dims = int(made[len("MaxUnpool")])
        x = _input(lib, R(2, 3, *[4] * dims), rng)
        args = list(getattr(lib.nn.functional, f"max_pool{dims}d")(x, 2, return_indices=True))
    else:
        args = [_input(lib, spec, rng) for spec in specs]
    if made.startswith("Lazy"):   # PyTorch's first forward also materialises and initialises the parameters
        layer(*args)
    with _recording(lib) as seen:
        layer(*args)
    return [name for name in seen if name not in QUERIES]


def test_every_shared_module_class_is_listed():
    shared = {name for name, value in vars(torch.nn).items()
              if inspect.isclass(value) and issubclass(value, torch.nn.Module) and hasattr(ember.nn, name)}
    listed = {made.partition("(")[0] for made in MODULES} | set(NOT_CALLED)
    assert shared - listed == set()


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("made", MODULES)
def test_forward_calls_as_torch(made, training):
    expected = _sequence(torch, made, training)
    assert expected or made == "Identity()", "the mode saw nothing in torch: the input does not reach the function"
    assert _sequence(ember, made, training) == expected


def test_multihead_attention_batch_first_transposes_as_torch():
    """batch_first attention transposes its inputs before F.multi_head_attention_forward as PyTorch's, a
    self-attention's one input once and a shared key/value once."""
    def calls(lib):
        lib.manual_seed(0)
        attention = lib.nn.MultiheadAttention(4, 2, batch_first=True)
        x, y, z = lib.ones(2, 3, 4), lib.ones(2, 5, 4), lib.zeros(2, 5, 4)
        outputs = []
        with _recording(lib) as seen:
            for query, key, value in ((x, x, x), (x, y, y), (x, y, z)):
                outputs.append(attention(query, key, value)[0].detach().numpy())
        return [name for name in seen if name not in QUERIES], outputs

    (expected, reference), (seen, outputs) = calls(torch), calls(ember)
    assert seen == expected
    for output, want in zip(outputs, reference):
        numpy.testing.assert_allclose(output, want, rtol=1e-5, atol=1e-6)


def test_conv_eval_chain_steps_aside_under_a_mode():
    """Sequential's Conv2d -> BatchNorm2d -> ReLU eval chain runs module by module while a mode is on, so the mode
    sees conv2d, batch_norm and relu as in torch, with the chain's result."""
    def run(lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Conv2d(3, 4, 1), lib.nn.BatchNorm2d(4), lib.nn.ReLU()).eval()
        model[1].running_mean.fill_(0.25)
        x = lib.tensor(numpy.random.default_rng(1).standard_normal((1, 3, 4, 4)).astype(numpy.float32))
        with lib.no_grad():
            plain = model(x)
            with _recording(lib) as seen:
                moded = model(x)
        return [name for name in seen if name not in QUERIES], plain.numpy(), moded.numpy()

    (expected, want, _), (seen, plain, moded) = run(torch), run(ember)
    assert seen == expected == ["conv2d", "batch_norm", "relu"]
    numpy.testing.assert_allclose(plain, want, rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(moded, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("made", ["MaxPool2d(2)", "AvgPool2d(2)", "AdaptiveMaxPool2d(2)", "LPPool2d(2, 2)",
                                  "FractionalMaxPool2d(2, output_size=2)", "ReLU6()", ENCODER_LAYER])
def test_subclass_sees_the_layer_function(made):
    """A Tensor subclass's ``__torch_function__`` gets the layer's function as torch's does, and the result comes back
    as the subclass."""
    def run(lib):
        seen = []

        class Logged(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                seen.append(_name(func))
                return super().__torch_function__(func, types, args, kwargs)

        lib.manual_seed(0)
        layer = eval(made, vars(lib.nn))
        x = _input(lib, X3 if made == ENCODER_LAYER else X4, numpy.random.default_rng(0)).as_subclass(Logged)
        seen.clear()
        output = layer(x)
        return [name for name in seen if name not in QUERIES], type(output) is Logged

    assert run(ember) == run(torch)
    assert run(ember)[1]


RECURRENT = ["RNN(4, 3)", "RNN(4, 3, nonlinearity='relu', num_layers=2)", "LSTM(4, 3, batch_first=True)",
             "LSTM(4, 3, proj_size=2, bidirectional=True)", "GRU(4, 3, bias=False, bidirectional=True)",
             "RNNCell(4, 3)", "RNNCell(4, 3, nonlinearity='relu')", "LSTMCell(4, 3)", "GRUCell(4, 3, bias=False)"]


def _recurrent_calls(lib, made, case):
    """The calls a mode sees in ``made``'s forward over an unbatched, packed or batched input with a given state,
    and the forward's tensors."""
    lib.manual_seed(0)
    with warnings.catch_warnings():   # the projection's oneDNN note
        warnings.simplefilter("ignore")
        layer = eval(made, vars(lib.nn))
        cell = "Cell" in made
        x = lib.tensor(numpy.random.default_rng(1).uniform(-1, 1, (5, 2, 4)).astype(numpy.float32))
        first = "batch_first" in made
        args = [x[0] if cell else x.transpose(0, 1).contiguous() if first else x]
        if case == "unbatched":
            args = [x[0, 0] if cell else x[:, 0]]
        elif case == "packed":
            args = [lib.nn.utils.rnn.pack_padded_sequence(args[0], lib.tensor([3, 5]), batch_first=first,
                                                          enforce_sorted=False)]
        elif case == "state":
            sizes = (2, 3) if cell else ((2 if "bidirectional" in made else 1) * (2 if "num_layers" in made else 1),
                                         2, 2 if "proj_size" in made else 3)
            h = lib.full(sizes, 0.25)
            args.append((h[..., :2] if "proj" in made else h, lib.full(sizes[:-1] + (3,), -0.5)) if "LSTM" in made
                        else h)
        with _recording(lib) as seen:
            result = layer(*args)
    flat = []
    for item in (result if isinstance(result, tuple) else (result,)):
        item = getattr(item, "data", item) if not isinstance(item, lib.Tensor) else item
        flat.extend(item if isinstance(item, tuple) else (item,))
    return [name for name in seen if name not in QUERIES], [t.detach().numpy() for t in flat]


@pytest.mark.parametrize("case", ["unbatched", "packed", "state"])
@pytest.mark.parametrize("made", RECURRENT)
def test_recurrent_calls_as_torch(made, case):
    """Recurrent layers call torch.zeros and torch.lstm/gru/rnn_tanh/rnn_relu (the cells lstm_cell, ...) as
    PyTorch's call them through _VF, over every input form, with PyTorch's results."""
    if case == "packed" and "Cell" in made:
        pytest.skip("cells take no packed sequences")
    (expected, want), (seen, got) = _recurrent_calls(torch, made, case), _recurrent_calls(ember, made, case)
    assert seen == expected
    assert len(got) == len(want)
    for value, reference in zip(got, want):
        numpy.testing.assert_allclose(value, reference, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("packed", [False, True], ids=["padded", "packed"])
def test_functional_recurrent_layers_match_torch(name, packed):
    """``torch.lstm``/``gru``/``rnn_tanh``/``rnn_relu`` (and ``torch._VF``'s, the same functions) in both of
    PyTorch's forms, called directly with a layer's weights, give PyTorch's outputs and states."""
    def run(lib):
        lib.manual_seed(0)
        kind = {"lstm": "LSTM", "gru": "GRU"}.get(name, "RNN")
        extra = {"rnn_relu": ", nonlinearity='relu'", "lstm": ", proj_size=2"}.get(name, "")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer = eval(f"{kind}(4, 3, num_layers=2, bidirectional=True{extra})", vars(lib.nn))
            x = lib.tensor(numpy.random.default_rng(2).uniform(-1, 1, (5, 2, 4)).astype(numpy.float32))
            h = lib.full((4, 2, 2 if name == "lstm" else 3), 0.5)
            hx = (h, lib.full((4, 2, 3), -0.25)) if name == "lstm" else h
            function = getattr(lib._VF, name)
            assert function is getattr(lib, name)
            if packed:
                data = lib.nn.utils.rnn.pack_padded_sequence(x, lib.tensor([5, 3]))
                result = function(data.data, data.batch_sizes, hx, layer._flat_weights, True, 2, 0.0, False, True)
            else:
                result = function(x, hx, layer._flat_weights, True, 2, 0.0, False, True, False)
        return [t.detach().numpy() for t in result]

    got, want = run(ember), run(torch)
    assert len(got) == len(want)
    for value, reference in zip(got, want):
        numpy.testing.assert_allclose(value, reference, rtol=1e-5, atol=1e-6)


INITS = {"ones_": (), "zeros_": (), "constant_": (0.5,), "eye_": (), "dirac_": (2,), "uniform_": (-0.5, 0.5),
         "normal_": (0.0, 2.0), "xavier_uniform_": (), "xavier_normal_": (), "kaiming_uniform_": (),
         "kaiming_normal_": (), "trunc_normal_": (), "trunc_normal_ narrow": (0.0, 1.0, 2.0, 2.5), "sparse_": (0.5,),
         "orthogonal_": (), "orthogonal_ wide": (0.5,)}


@pytest.mark.parametrize("name", INITS)
def test_init_calls_as_torch(name):
    """``nn.init`` functions hand themselves to a mode where PyTorch's do (uniform_, normal_, constant_,
    kaiming_uniform_) and otherwise make PyTorch's calls (ones_ fills, zeros_ zeroes, eye_ calls eye, ...), with
    PyTorch's values from the same seed."""
    def run(lib):
        lib.manual_seed(0)
        tensor = lib.empty(4, 4, 3) if name == "dirac_" else lib.empty(3, 7) if "wide" in name else lib.empty(6, 5)
        with _recording(lib) as seen:
            getattr(lib.nn.init, name.split()[0])(tensor, *INITS[name])
        return [call for call in seen if call not in QUERIES], tensor.numpy()

    (expected, want), (seen, got) = run(torch), run(ember)
    assert seen == expected
    numpy.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)   # (float32 QR: LAPACK builds differ)


def test_materialize_calls_public_empty():
    """``UninitializedParameter.materialize`` and ``UninitializedBuffer.materialize`` allocate through the public
    ``empty``, which a mode sees as in PyTorch."""
    def run(lib):
        parameter, buffer = lib.nn.parameter.UninitializedParameter(), lib.nn.parameter.UninitializedBuffer()
        with _recording(lib) as seen:
            parameter.materialize((2, 3))
            buffer.materialize(4, dtype=lib.float64)
        return ([call for call in seen if call not in QUERIES], type(parameter).__name__, tuple(parameter.shape),
                type(buffer).__name__, tuple(buffer.shape), str(buffer.dtype).rpartition(".")[2])

    assert run(ember) == run(torch)


@pytest.mark.parametrize("mask_dtype", ["bool", "float32"])
def test_multihead_attention_masks_made_by_public_calls_as_torch(mask_dtype):
    """MultiheadAttention's bool masks become additive ones by the public zeros_like and Tensor.masked_fill_ (PyTorch's
    F._canonical_mask), so a mode (or DTensor) sees them; float masks pass through. is_floating_point is a dtype query
    here (torch's layer also asks it for its fast path, which ember's has not)."""
    def calls(lib):
        lib.manual_seed(0)
        attention = lib.nn.MultiheadAttention(4, 2)
        x = lib.tensor(numpy.random.default_rng(0).standard_normal((3, 2, 4)).astype(numpy.float32))
        padding = lib.tensor([[False, True, False], [False, False, True]])
        causal = lib.ones(3, 3, dtype=lib.bool).triu(1)
        dtype = getattr(lib, mask_dtype)
        if dtype is not lib.bool:
            padding, causal = (lib.zeros(m.shape).masked_fill(m, float("-inf")) for m in (padding, causal))
        with _recording(lib) as seen:
            output, weights = attention(x, x, x, key_padding_mask=padding, attn_mask=causal)
        return [name for name in seen if name not in QUERIES | {"is_floating_point"}], output.detach().numpy()

    (expected, want), (seen, output) = calls(torch), calls(ember)
    assert seen == expected
    assert ("zeros_like" in seen) == (mask_dtype == "bool")
    numpy.testing.assert_allclose(output, want, rtol=1e-5, atol=1e-6)
