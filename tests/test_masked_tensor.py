"""``torch.masked.MaskedTensor`` beside PyTorch 2.13's prototype: the same expression runs on both sides and gives
the same kind of result (MaskedTensor or Tensor), dtype, shape, mask and specified values, or the same exception;
gradients, construction errors, ``__repr__`` and the prototype warnings likewise."""
import copy
import io
import math
import pickle
import warnings

import pytest
import torch
import torch.nn.functional as torch_F

import ember
import ember.nn.functional as ember_F

X = [[1., -2, 3], [4, 5, -6]]
Y = [[2., 1, 0.5], [-1, 3, 2]]
M = [[True, False, True], [False, True, True]]
M2 = [[True, True, True], [False, True, True]]

UNARY = ["torch.sin(mt)", "mt.exp()", "torch.abs(mt)", "-mt", "torch.clamp(mt, 0, 2)", "mt.clamp(min=0)", "mt.pow(2)",
         "mt ** 2", "mt.sigmoid()", "torch.tanh(mt)", "mt.square()", "mt.isnan()", "mt.nan_to_num()", "mt.round()",
         "mt.logit()", "~mb", "mi.bitwise_not()", "mt.sign()", "mt.angle()", "mt.positive()", "mt.exp2()",
         "mt.clamp(mu)", "mt.round(decimals=1)", "torch.exp(mt, out=y)", "mt ** mu", "2 ** mt",
         "mt.relu()", "F.relu(mt)", "mt.isinf()"]
BINARY = ["mt + torch.ones(2, 2, 3)", "torch.ones(2, 2, 3) * mt", "mb + mb", "mi / 2", "mi * 1.5", "mt.half() + 1",
          "mt.eq(mu).all()", "mt.ne(mu).all(1)", "(mt > 0).all(0)", "mt + mu", "mt + 1", "1 + mt", "mt - 1", "1 - mt",
          "mt * 2", "2 * mt", "mt / 2", "2 / mt", "mt + mv",
          "mt + y", "y + mt", "torch.add(mt, mu, alpha=2)", "torch.add(mt, mu)", "mt > 0", "mt == mu", "mt < mu",
          "mt // 2", "mt % 2", "torch.maximum(mt, mu)", "torch.atan2(mt, mu)", "mi & mi", "mb ^ mb", "mt.eq(1)",
          "mt.div(2, rounding_mode='floor')", "mt + torch.tensor(1.)", "mt * torch.ones(3)", "torch.add(1, mt)",
          "mt.float_power(2)", "mt.true_divide(mu)", "mt.logaddexp(mu)", "mt.not_equal(mu)", "mt.subtract(mu)",
          "torch.matmul(mt, mu.t())", "torch.mm(mt, mu.t())"]
REDUCTIONS = ["mt[0].sum(0)", "masked(x, torch.zeros(2, 3).bool()).amax()",
              "masked(x, torch.zeros(2, 3).bool()).mean(1)",
              "masked(x, torch.zeros(2, 3).bool()).sum()", "masked(torch.zeros(0), torch.zeros(0).bool()).sum()",
              "mi.argmax(1)", "mi.amax()", "mi.prod(0)", "mt.half().sum()", "mb.sum()",
              "masked(x, torch.zeros(2, 3).bool()).var(1)", "mt.mean(dtype=torch.float64)", "mt.amax(-1, True)",
              "mt.std(1, keepdim=True)", "mt.argmin()", "mt.sum((0, 1), keepdim=True)", "mt.long().sum(1)", "mt.sum()",
              "mt.sum(0)", "mt.sum(1, keepdim=True)", "torch.sum(mt, dim=(0, 1))", "mt.mean()",
              "mt.mean(1)", "mt.amax()", "mt.amax(0)", "mt.amin(1)", "mt.argmax()", "mt.argmax(1)", "mt.argmin(0)",
              "mt.prod()", "mt.prod(1)", "mb.all()", "mb.all(1)", "mt.var()", "mt.var(1)", "mt.std(0)", "mt.std()",
              "mt.sum(dtype=torch.float64)", "mt.sum(0, dtype=torch.float64)", "mi.sum()", "mi.mean(0)",
              "mt.sum(-1)", "mt.sum(2)", "torch.argmax(mt, 1, True)", "torch.prod(mt, 0)", "torch.all(mb, 0)",
              "torch.var(mt, 1, unbiased=False)", "mt.amax(dim=(0, 1), keepdim=True)", "mt.mean((0, 1))",
              "mt.max()", "mt.min(1)", "mt.cumsum(0)", "mt.logsumexp(1)", "mt.any()", "mt.median()",
              "masked(torch.ones(2, 3), torch.zeros(2, 3).bool()).amax(1)"]
NORMALIZATIONS = ["torch.softmax(mt, 1)", "F.softmax(mt, -1)", "mt.softmax(0)", "F.softmin(mt, 1)",
                  "torch.softmax(mt, 1, dtype=torch.float64)", "mt.softmax(1, torch.float64)",
                  "torch.log_softmax(mt, 1)",
                  "torch.softmax(masked(x, torch.tensor([[False] * 3, [True] * 3])), 1)",
                  "torch.where(m2, mt, mu)", "torch.where(m2, mt, y)", "torch.where(m2, x, mu)",
                  "torch.where(m2, mt, 0.)", "torch.where(m2, 0., mt)", "torch.where(m, mt, mu)",
                  "torch.softmax(mt, 0).sum(0)", "mt.sigmoid().amax(0)"]
SHAPES = ["mt[None]", "mt[..., 0]", "mt.view(-1)", "mt.flatten(0, 1)", "mt.reshape(-1, 2)", "torch.stack([mt, mu], 1)",
          "torch.cat([mt, mu], dim=1)", "mt.unsqueeze(-1).expand(2, 3, 2)", "mt.transpose(1, 0).sum(0)", "mt.t()",
          "mt.transpose(0, 1)", "mt[0]", "mt[:, 1]", "mt[0, 1:]", "mt[[0, 1], [1, 2]]", "mt[m2]",
          "mt.view(3, 2)", "mt.reshape(6)", "mt.flatten()", "mt.unsqueeze(0)", "mt.expand(2, 2, 3)", "mt.split(1)",
          "mt.chunk(2)", "torch.cat([mt, mu])", "torch.stack([mt, mu])", "torch.cat([mt, y])", "mt.unfold(1, 2, 1)",
          "mt.narrow(1, 0, 2)", "mt.select(1, 0)", "mt.swapaxes(0, 1)", "mt.mT", "mt.view_as(y)", "mt.split([1, 1])",
          "mt.expand_as(torch.ones(2, 2, 3))", "mt.squeeze()", "mt.permute(1, 0)", "mt.flip(0)", "mt.unbind(0)",
          "mt.T", "mt.repeat(1, 2)"]
CONVERSIONS = ["mt.float()", "mt.double()", "mt.to(torch.float64)", "mt.int()", "mt.bool()", "mt.to('cpu')",
               "mt.cpu()", "mt.clone()", "mt.detach()", "mt.contiguous()", "mt.t().contiguous()", "mt.half()",
               "mt.to(dtype=torch.float64)", "mt.type(torch.float64)", "mt.to_dense()", "torch.ones_like(mt)",
               "torch.zeros_like(mt)", "mt.new_zeros(2)", "mt.to(torch.bfloat16)"]
METADATA = ["mt.is_contiguous()", "mt.t().is_contiguous()", "mt.dim()", "tuple(mt.size())", "tuple(mt.shape)",
            "mt.numel()", "str(mt.dtype)", "str(mt.layout)", "mt.stride()", "len(mt)", "mt.is_sparse",
            "mt.requires_grad", "mt.is_leaf", "mt.ndim", "mt.is_floating_point()", "mt.element_size()",
            "mt.tolist()", "mt.item()", "mt.sum().item()", "mt.numpy()", "mt.get_data()", "mt.get_mask()",
            "mt.to_tensor(0)", "mt.to_tensor(float('nan'))", "mt._masked_data", "mt._masked_mask",
            "torch.masked.is_masked_tensor(mt)", "torch.masked.is_masked_tensor(x)", "isinstance(mt, torch.Tensor)",
            "type(mt).__name__", "mt.is_sparse_coo()", "mt.is_sparse_csr()", "bool(mt.sum())",
            "masked(torch.tensor(2.), torch.tensor(False)).item()", "mt.requires_grad_().requires_grad"]
IN_PLACE = ["mt.add_(1)", "mt.mul_(mu)", "mt.exp_()", "mt.sin_()", "mt.clamp_(0, 1)", "mt.copy_(mu)", "mt.copy_(mv)",
            "mt.add_(mv)", "mt.abs_()", "mt.neg_()", "mt.sub_(1)", "mt.div_(2)", "mt.sqrt_()", "mt.floor_divide_(2)",
            "mt.fill_(1)", "mt.zero_()", "mt.relu_()", "mt.masked_fill(m2, 0)", "mt.__setitem__(0, 1)"]
# torch.masked's functions given a MaskedTensor: its masked-out elements are replaced by the op's identity first
MASKED_FUNCTIONS = ["torch.masked.softmax(mt, 1)", "torch.masked.sum(mt, 1)", "torch.masked.sum(mt)",
                    "torch.masked.mean(mt, 0)", "torch.masked.amax(mt, 1)", "torch.masked.log_softmax(mt, 1)",
                    "torch.masked.norm(mt, 2.0, 1)", "torch.masked.cumsum(mt, 1)", "torch.masked.sum(mt, 1, mask=m2)",
                    "torch.masked.var(mt, 1)", "torch.masked.logsumexp(mt, 1)", "torch.masked.normalize(mt, 2.0, 1)",
                    "torch.masked.std(mt, 0)", "torch.masked.prod(mt, 1)", "torch.masked.argmax(mt, 1)",
                    "torch.masked.amin(mt)", "torch.masked.median(mt, 1)", "torch.masked.softmin(mt, 0)",
                    "torch.masked.cumprod(mt, 1)", "torch.masked.logaddexp(mt, mu)", "torch.masked.mean(mt)",
                    "torch.masked.var(mt, 1, mask=m2)", "torch.masked.sum(mi, 1)", "torch.masked.mean(mt, 1, mask=m)"]
CONSTRUCTION = ["masked([1.], m)", "masked(x, [True])", "masked(x, m.int())", "masked(x.to(torch.complex64), m)",
                "masked(x, m[0])", "masked(x, m.t())", "masked(x.to(torch.uint8), m)",
                "masked(x.to(torch.bfloat16), m)", "masked(masked(x, m), m)", "masked(x, masked(m, m))",
                "masked(x.int(), m, requires_grad=True)", "masked(x, m, True).requires_grad",
                "torch.masked.MaskedTensor(x, m)", "torch.masked.as_masked_tensor(x, m)", "masked(x.int(), m)",
                "masked(torch.zeros(0, 3), torch.zeros(0, 3).bool()).sum(0)"]


def _namespace(lib):
    functional = torch_F if lib is torch else ember_F

    def masked(*args, **kwargs):
        return lib.masked.masked_tensor(*args, **kwargs)
    x, y, m, m2 = lib.tensor(X), lib.tensor(Y), lib.tensor(M), lib.tensor(M2)
    return {"torch": lib, "F": functional, "masked": masked, "x": x, "y": y, "m": m, "m2": m2,
            "mt": masked(x, m), "mu": masked(y, m), "mv": masked(y, m2),
            "mi": masked(lib.tensor([[1, 2, 3], [4, 5, 6]]), m),
            "mb": masked(lib.tensor([[True, False, True], [False, False, True]]), m)}


def _outcome(lib, expression):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the prototype's warnings (checked in test_prototype_warnings)
        try:
            return "value", _described(eval(expression, _namespace(lib)))
        except Exception as error:   # the exception itself is the outcome compared
            return "error", (type(error).__name__, str(error).splitlines()[0])


def _values(tensor):
    return [None if isinstance(v, float) and math.isnan(v) else v for v in tensor.flatten().tolist()]


def _described(value):
    """A result in plain Python: a MaskedTensor by dtype, shape, mask and specified values."""
    if type(value).__name__ == "MaskedTensor":
        mask = value.get_mask()
        data = value.get_data().detach()
        return ("MaskedTensor", str(value.dtype).split(".")[-1], tuple(value.shape), _values(mask),
                _values(data.masked_fill(~mask, 0)))
    if isinstance(value, (torch.Tensor, ember.Tensor)):
        return ("Tensor", str(value.dtype).split(".")[-1], tuple(value.shape), _values(value.detach()))
    if isinstance(value, (tuple, list)):
        return tuple(_described(item) for item in value)
    return value


def _same(expected, got):
    if isinstance(expected, tuple) and isinstance(got, tuple) and len(expected) == len(got):
        return all(_same(a, b) for a, b in zip(expected, got))
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        return all(_same(a, b) for a, b in zip(expected, got))
    if isinstance(expected, float) and isinstance(got, float):
        return math.isclose(expected, got, rel_tol=1e-5, abs_tol=1e-6)
    return expected == got or str(expected).replace("torch", "ember") == str(got)


@pytest.mark.parametrize("expression", UNARY + BINARY + REDUCTIONS + NORMALIZATIONS + SHAPES + CONVERSIONS + METADATA
                         + IN_PLACE + CONSTRUCTION + MASKED_FUNCTIONS)
def test_like_torch(expression):
    expected, got = _outcome(torch, expression), _outcome(ember, expression)
    assert expected[0] == got[0], (expected, got)
    if expected[0] == "error":
        assert expected[1][0] == got[1][0], (expected, got)
        if "__torch_dispatch__ handlers returned NotImplemented" in expected[1][1]:   # an op without a rule
            assert "__torch_dispatch__ handlers returned NotImplemented" in got[1][1]
        elif not expected[1][1].startswith("unsupported operand") or "@" not in expected[1][1]:
            assert expected[1][1].replace("torch.", "ember.") == got[1][1], (expected, got)
    else:
        assert _same(expected[1], got[1]), (expected, got)


@pytest.mark.parametrize("expression", ["mt @ mu.t()"])
def test_matmul_refused(expression):
    """PyTorch names the operand types for ``@`` (its operator turns the refusal into NotImplemented); ember's
    operator reaches the same refusal as ``torch.matmul``."""
    assert _outcome(torch, expression)[1][0] == _outcome(ember, expression)[1][0] == "TypeError"


GRADIENTS = {
    "sum": lambda lib, a, b: a.sum(),
    "exp_sum": lambda lib, a, b: (a * 2).exp().sum(1).sum(),
    "softmax": lambda lib, a, b: (lib.softmax(a, 1) * b).sum(),
    "mean": lambda lib, a, b: a.mean(0).sum(),
    "binary_amax": lambda lib, a, b: (a * b + a / 3).amax(),
    "prod": lambda lib, a, b: a.prod(1).sum(),
    "var": lambda lib, a, b: a.var(1).sum(),
    "shapes": lambda lib, a, b: (a.t()[1:] * 3).sum(),
    "where": lambda lib, a, b: lib.where(lib.tensor(M2), a, b).sum(),
    "get_data": lambda lib, a, b: (a.get_data() ** 2).sum(),
    "amin": lambda lib, a, b: a.amin(1).sum(),
    "twice": lambda lib, a, b: a.sum() + a.sum(1).sum(),
    "masked_functions": lambda lib, a, b: lib.masked.sum(a * b, 1).sum() + lib.masked.var(a, 0).nansum(),
}


def _gradient(lib, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = lib.masked.masked_tensor(lib.tensor(X, dtype=lib.float64), lib.tensor(M), requires_grad=True)
        b = lib.masked.masked_tensor(lib.tensor(Y, dtype=lib.float64), lib.tensor(M))
        out = GRADIENTS[name](lib, a, b)
        out.backward()
        return _described(a.grad)


@pytest.mark.parametrize("name", GRADIENTS)
def test_gradient_is_masked_like_torch(name):
    """The gradient of a MaskedTensor leaf is a MaskedTensor with PyTorch's values where PyTorch's is specified.
    Its mask is the leaf's; PyTorch's is what its backward formulas make of the masks, the leaf's except where a
    shape op's backward leaves out elements the op dropped (which then get 0 in both)."""
    expected, got = _gradient(torch, name), _gradient(ember, name)
    assert got[:3] == expected[:3] and got[3] == [v for row in M for v in row]
    assert all(g or not e for e, g in zip(expected[3], got[3]))
    assert _same([v if e else 0 for v, e in zip(expected[4], expected[3])],
                 [v if e else 0 for v, e in zip(got[4], expected[3])])


@pytest.mark.parametrize("lib", [torch, ember])
def test_as_masked_tensor_keeps_history(lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        a = lib.masked.as_masked_tensor(x, lib.tensor(M))
        assert (a.requires_grad, a.is_leaf, type(a.grad_fn).__name__) == (True, False, "ConstructorBackward")
        (a * 2).sum().backward()
    assert type(x.grad).__name__ == "MaskedTensor"
    assert x.grad.get_mask().tolist() == M
    assert x.grad.get_data().masked_fill(~x.grad.get_mask(), 0).tolist() == [[2, 0, 2], [0, 2, 2]]


REPRS = ["masked(x, m)", "masked(x.int(), m)", "masked(x > 0, m)", "masked(torch.tensor(2.5), torch.tensor(True))",
         "masked(torch.tensor(2), torch.tensor(False))", "masked(torch.arange(8.).reshape(2, 2, 2) * 1000, m2[:1, :2]"
         ".reshape(1, 2, 1).expand(2, 2, 2).clone())", "masked(torch.tensor([1e-5, 123456.5]), torch.tensor([True, "
         "True]))", "mt.sum()", "mt.mean(1)"]


@pytest.mark.parametrize("expression", REPRS)
def test_repr_like_torch(expression):
    outcomes = []
    for lib in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = eval(expression, _namespace(lib))
            outcomes.append((repr(value), str(value)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("lib", [torch, ember])
def test_prototype_warnings(lib):
    x, m = lib.tensor(X, requires_grad=True), lib.tensor(M)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        lib.masked.masked_tensor(x, m)
    assert [w.category for w in record] == [UserWarning, UserWarning]
    assert str(record[0].message).startswith("The PyTorch API of MaskedTensors is in prototype stage")
    assert str(record[1].message).startswith("It is not recommended to create a MaskedTensor with a tensor that "
                                              "requires_grad")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mt = lib.masked.masked_tensor(x.detach(), m)
    with pytest.warns(UserWarning, match="not implemented in __torch_dispatch__ for MaskedTensor"):
        with pytest.raises(TypeError):
            mt.cumsum(0)


def test_where_method_and_norm():
    """Where PyTorch 2.13's prototype fails on its own (``mt.where`` recurses, ``norm`` passes ``p`` to a binding
    without it), ember's gives what the rules mean: ``torch.where(cond, mt, other)`` and ``torch.masked.norm``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = _namespace(ember)
        mt, mu, m2 = names["mt"], names["mu"], names["m2"]
        assert _described(mt.where(m2, mu)) == _described(ember.where(m2, mt, mu))
        expected = torch.masked.norm(torch.tensor(X), 2.0, 1, mask=torch.tensor(M))
        got = mt.norm(dim=1)
        assert got.get_mask().tolist() == [True, True]
        assert got.get_data().tolist() == pytest.approx(expected.tolist())


def _tutorial(lib, case):
    """The autograd examples of PyTorch's MaskedTensor tutorials, as reprs."""
    masked = lib.masked
    if case == "nan_gradient":   # a masked-out division by zero leaves no NaN in the gradient
        x = lib.tensor([1., 1.], requires_grad=True)
        div = lib.tensor([0., 1.])
        masked.as_masked_tensor(x / div, div != 0).sum().backward()
        return [x.grad]
    if case == "where":
        x = lib.tensor([-10., -5, 0, 5, 10, 50, 60, 70, 80, 90, 100])
        mask = x < 0
        mx = masked.masked_tensor(x, mask, requires_grad=True)
        my = masked.masked_tensor(lib.ones_like(x), ~mask, requires_grad=True)
        lib.where(mask, lib.exp(mx), my).sum().backward()
        return [mx.grad, my.grad]
    mt = masked.masked_tensor(lib.tensor([1., 2.]), lib.tensor([True, False]), requires_grad=True)
    if case == "accumulates":
        (mt * 3).sum().backward()
        (mt * 3).sum().backward()
        return [mt.grad]
    if case == "autograd_grad":
        return list(lib.autograd.grad((mt ** 2).sum(), mt))
    with lib.no_grad():
        return [(mt * 2).requires_grad, (mt * 2).detach().requires_grad, (mt * 2).requires_grad, mt.detach()]


@pytest.mark.parametrize("case", ["nan_gradient", "where", "accumulates", "autograd_grad", "no_grad"])
def test_tutorial_gradients_like_torch(case):
    results = []
    for lib in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results.append([(type(v).__name__, repr(v).replace("ember", "torch")) for v in _tutorial(lib, case)])
    assert results[0] == results[1]


PROTOCOLS = {
    "deepcopy": lambda lib, mt: copy.deepcopy(mt),
    "pickle": lambda lib, mt: pickle.loads(pickle.dumps(mt)),
    "save_load": lambda lib, mt: _saved_and_loaded(lib, mt),
    "float": lambda lib, mt: float(mt.sum()),
    "int": lambda lib, mt: int(mt.sum()),
    "format_scalar": lambda lib, mt: f"{mt.sum()}",
    "format": lambda lib, mt: f"{mt}",
    "float_masked_out": lambda lib, mt: float(mt[1]),
    "index": lambda lib, mt: [1, 2, 3][mt.sum().long()],
    "iter": lambda lib, mt: list(mt),
    "contains": lambda lib, mt: 1 in mt,
}


def _saved_and_loaded(lib, value):
    buffer = io.BytesIO()
    lib.save(value, buffer)
    buffer.seek(0)
    return lib.load(buffer, weights_only=False)


@pytest.mark.parametrize("name", PROTOCOLS)
def test_python_protocols_like_torch(name):
    """Copies, pickles, torch.save/load round trips keep data, mask and requires_grad; float/int/format/index of a
    one-element MaskedTensor give its specified value, as PyTorch's."""
    outcomes = []
    for lib in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mt = lib.masked.masked_tensor(lib.tensor([1., 2.]), lib.tensor([True, False]), requires_grad=True)
            try:
                value = PROTOCOLS[name](lib, mt)
                outcomes.append((type(value).__name__, repr(value), getattr(value, "requires_grad", None)))
            except Exception as error:   # the exception type is the outcome compared
                outcomes.append(type(error).__name__)
    assert outcomes[0] == outcomes[1]
