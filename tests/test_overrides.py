"""The __torch_function__ protocol (torch.overrides): Tensor subclasses, tensor-likes and TorchFunctionMode, each
program run on torch and on ember with the same observations expected."""
import pathlib
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")
ROOT = str(pathlib.Path(__file__).resolve().parent.parent)


def _name(lib, func):
    name = lib.overrides.resolve_name(func)
    return None if name is None else name.replace("ember.", "torch.", 1)


def _torch_named(message):
    """ember's messages name its functions ``ember.add`` outside ``ember run``; torch's, ``torch.add``."""
    return message.replace("'ember.", "'torch.").replace("test_overrides.", "")


def _type_name(value):
    return type(value).__name__


def subclass_results(lib):
    class MyTensor(lib.Tensor):
        pass

    x = lib.arange(6.0).reshape(2, 3).as_subclass(MyTensor)
    y = lib.ones(2, 3)
    results = [x + 1, 1 + x, x * y, y * x, lib.add(x, y), lib.mul(y, x), x.sum(), x.sum(0), x[0], x[:, 1:], x.t(),
               x.reshape(3, 2), lib.relu(x), lib.nn.functional.softmax(x, dim=1), lib.cat([y, x]), lib.stack([x, y]),
               x.detach(), x.clone(), x.data, x.T, x @ x.t(), -x, abs(x), x > 1, x.to(lib.float64), x.float(),
               lib.where(x > 2, x, y), x.mean(), x.exp(), x.view(-1), x.unsqueeze(0)]
    types = [_type_name(r) for r in results]
    values, indices = lib.max(x, 1)
    split = lib.split(x, 1)
    types += [_type_name(lib.max(x, 1)), _type_name(values), _type_name(indices), _type_name(split),
              _type_name(split[0]), _type_name(x.tolist()), _type_name(x.sum().item()), _type_name(x.shape),
              _type_name(len(x)), _type_name(repr(x)), repr(x)]
    return types


def test_subclass_results_keep_the_subclass():
    assert subclass_results(ember) == subclass_results(torch)


def subclass_gradients(lib):
    class MyTensor(lib.Tensor):
        pass

    lib.manual_seed(0)
    leaf = lib.randn(3, 4, requires_grad=True)
    weight = lib.randn(2, 4, requires_grad=True)
    x = leaf.as_subclass(MyTensor)
    out = lib.nn.functional.linear(x, weight).tanh()
    loss = (out * out).sum()
    loss.backward()
    return [type(out).__name__, type(loss).__name__, out.grad_fn.name(), type(leaf.grad).__name__,
            leaf.grad.detach().numpy().copy(), weight.grad.detach().numpy().copy()]


def test_subclass_gradients_flow_to_the_leaf():
    ours, theirs = subclass_gradients(ember), subclass_gradients(torch)
    assert ours[:4] == theirs[:4]
    np.testing.assert_allclose(ours[4], theirs[4], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[5], theirs[5], rtol=1e-5, atol=1e-6)


def logged_calls(lib):
    seen = []

    class Logged(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append((_name(lib, func), [t.__name__ for t in types]))
            return super().__torch_function__(func, types, args, kwargs)

    x = lib.ones(2, 2).as_subclass(Logged)
    seen.clear()
    lib.mul(x, 2)
    x.add(1)
    x - 1
    1 - x
    x[0]
    lib.nn.functional.relu(x)
    lib.matmul(x, lib.ones(2, 2))
    x.sum(dim=0, keepdim=True)
    return seen


def test_a_subclass_handler_sees_each_public_call_once():
    assert logged_calls(ember) == logged_calls(torch)


def mode_calls(lib):
    seen = []

    class Recorder(lib.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append(_name(lib, func))
            return func(*args, **(kwargs or {}))

    x = lib.ones(2)
    i = lib.ones(2, dtype=lib.int64)
    with Recorder() as mode:
        current = lib.overrides._get_current_function_mode() is mode
        x + 1; 1 + x; x - 1; 1 - x; x * 2; 2 * x; x / 2; 2 / x; x // 2; x % 2; x ** 2; 2 ** x  # noqa: E702
        x @ x; -x; abs(x); x == 1; x < 1; x <= 1; x > 1; x >= 1; x != 1; +x  # noqa: E702
        i & 1; i | 1; i ^ 1; ~i; i << 1; i >> 1; 1 & i  # noqa: E702
        x[0]; x[0] = 1; len(x)  # noqa: E702
        x += 1; x -= 1; x *= 2; x /= 2  # noqa: E702
        lib.zeros(3); lib.nn.functional.gelu(x); x.relu().sum(); lib.linalg.norm(x); lib.fft.fft(x)  # noqa: E702
    return current, lib.overrides._get_current_function_mode(), seen


def test_a_mode_sees_public_calls_factories_and_operators():
    assert mode_calls(ember) == mode_calls(torch)


def nested_modes(lib):
    seen = []

    class Named(lib.overrides.TorchFunctionMode):
        def __init__(self, name):
            super().__init__()
            self.name = name

        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append((self.name, _name(lib, func), len(lib.overrides._get_current_function_mode_stack())))
            if self.name == "inner" and _name(lib, func) == "torch.add":
                return lib.sub(*args)   # reaches the outer mode, not this one
            return func(*args, **(kwargs or {}))

    with Named("outer"), Named("inner"):
        result = lib.add(lib.full((2,), 5.0), 2)
    return seen, result.tolist()


def test_nested_modes_each_see_the_calls_of_the_ones_above():
    assert nested_modes(ember) == nested_modes(torch)


def not_implemented_errors(lib):
    class Refuses(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    class Mode(lib.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return NotImplemented

    messages = []
    x = lib.ones(1)
    r = x.as_subclass(Refuses)
    for call in (lambda: lib.add(r, 1), lambda: r.mul(2)):
        with pytest.raises(TypeError) as error:
            call()
        messages.append(str(error.value))
    with pytest.raises(TypeError) as error:
        with Mode():
            lib.add(x, 1)
    messages.append(str(error.value).split(" object at ")[0])
    return messages


def test_every_handler_refusing_raises_torchs_type_error():
    ours = [_torch_named(m) for m in not_implemented_errors(ember)]
    theirs = [_torch_named(m) for m in not_implemented_errors(torch)]
    assert ours == theirs


def queries(lib):
    class Sub(lib.Tensor):
        pass

    class Like:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return "handled"

    x = lib.ones(1)
    s = x.as_subclass(Sub)
    p = lib.nn.Parameter(lib.ones(1))
    o = lib.overrides
    answers = [o.has_torch_function((x,)), o.has_torch_function((s,)), o.has_torch_function((p,)),
               o.has_torch_function((1, Like())), o.has_torch_function_unary(s), o.has_torch_function_variadic(x, 1),
               o.is_tensor_like(x), o.is_tensor_like(Like()), o.is_tensor_like(Like), o.is_tensor_like(1),
               o.is_tensor_method_or_property(lib.Tensor.add), o.is_tensor_method_or_property(lib.add),
               _name(lib, lib.nn.functional.relu), _name(lib, lib.Tensor.add), _name(lib, lib.Tensor.__add__),
               lib.add in o.get_ignored_functions(), lib.manual_seed in o.get_ignored_functions(),
               lib.add in o.get_overridable_functions()[lib], lib._C._is_torch_function_enabled(),
               lib._C._is_torch_function_mode_enabled(), lib.mean(Like())]
    with lib._C.DisableTorchFunctionSubclass():
        answers += [type(s + 1).__name__, lib._C._is_torch_function_enabled()]
    answers += [type(p * 2).__name__, type(lib.nn.Parameter(lib.ones(1)) + x.as_subclass(Sub)).__name__]
    return answers


def test_queries_and_switches_answer_as_torch():
    # torch.overrides caches its answers on first use, and importing torch._dynamo (which an earlier test's
    # torch.jit or torch.compile may do) rebinds torch.manual_seed to a wrapper: the cached sets then miss the
    # current torch.manual_seed. Asked afresh, torch answers as it does in a new process, whatever ran before.
    for cached in (torch.overrides.get_ignored_functions, torch.overrides._get_overridable_functions,
                   torch.overrides._get_tensor_methods):
        cached.cache_clear()
    assert queries(ember) == queries(torch)


def scalar_tensor_example(lib):
    """The tensor-like of PyTorch's "Extending torch" notes: a diagonal matrix that handles torch.mean and
    torch.add itself."""
    handled = {}

    def implements(torch_function):
        def decorate(function):
            handled[torch_function] = function
            return function
        return decorate

    class ScalarTensor:
        def __init__(self, n, value):
            self._n, self._value = n, value

        def tensor(self):
            return self._value * lib.eye(self._n)

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            if func not in handled or not all(issubclass(t, (lib.Tensor, ScalarTensor)) for t in types):
                return NotImplemented
            return handled[func](*args, **(kwargs or {}))

    @implements(lib.mean)
    def mean(input):
        return float(input._value) / input._n

    @implements(lib.add)
    def add(input, other):
        if isinstance(input, ScalarTensor) and isinstance(other, ScalarTensor):
            return ScalarTensor(input._n, input._value + other._value)
        return lib.add(input.tensor() if isinstance(input, ScalarTensor) else input,
                       other.tensor() if isinstance(other, ScalarTensor) else other)

    d = ScalarTensor(5, 2)
    results = [lib.mean(d), lib.add(d, d)._value, lib.add(d, lib.ones(5, 5)).sum().item()]
    with pytest.raises(TypeError) as error:
        lib.sub(d, 1)
    return results, _torch_named(str(error.value))


def test_tensor_likes_handle_the_functions_they_implement():
    assert scalar_tensor_example(ember) == scalar_tensor_example(torch)


def user_dispatching_function(lib):
    o = lib.overrides

    def scale(x, factor=2):
        if o.has_torch_function_unary(x):
            return o.handle_torch_function(scale, (x,), x, factor=factor)
        return x * factor

    seen = []

    class Tracked(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append(getattr(func, "__name__", None))
            return super().__torch_function__(func, types, args, kwargs)

    out = scale(lib.ones(2).as_subclass(Tracked), factor=3)
    return seen, type(out).__name__, out.tolist(), scale(lib.ones(2)).tolist()


def test_functions_written_with_handle_torch_function_dispatch():
    assert user_dispatching_function(ember) == user_dispatching_function(torch)


def test_dispatching_functions_and_methods_pickle_by_reference():
    class Sub(ember.Tensor):   # makes sure the dispatching wrappers are in place
        pass

    for function in (ember.add, ember.nn.functional.relu, ember.Tensor.add, ember.Tensor.__add__, ember.linalg.norm):
        assert pickle.loads(pickle.dumps(function)) is function
    assert ember.overrides.unwrapped(ember.add).__name__ == "add"


def test_internal_subclasses_keep_their_own_rules():
    class Sub(ember.Tensor):
        pass

    p = ember.nn.Parameter(ember.ones(2))
    buffer = ember.nn.Buffer(ember.ones(2))
    assert type(p + 1) is ember.Tensor and type(buffer * 2) is ember.Tensor
    assert type(ember.nn.functional.linear(ember.ones(1, 2).as_subclass(Sub), p.reshape(1, 2))) is Sub


def empty_init(lib):
    """Lightning Fabric's ``init_module(empty_init=True)``: a mode that skips the nn.init functions."""
    class SkipInit(lib.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if getattr(func, "__module__", None) == lib.nn.init.__name__:
                return args[0] if args else kwargs.get("tensor")
            return func(*args, **(kwargs or {}))

    lib.manual_seed(3)
    with SkipInit():
        layer = lib.nn.Linear(4, 3)
    after = lib.randn(3)   # no random numbers were drawn for the skipped initialisation
    return tuple(layer.weight.shape), after.tolist()


def test_a_mode_can_skip_parameter_initialisation():
    ours, theirs = empty_init(ember), empty_init(torch)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)


def test_transformer_layers_recognise_relu_and_gelu_after_dispatch_is_installed():
    class Sub(ember.Tensor):   # installs the dispatching wrappers (F.relu is a wrapper from here on)
        pass

    assert ember.nn.TransformerEncoderLayer(8, 2).activation_relu_or_gelu == 1
    assert ember.nn.TransformerEncoderLayer(8, 2, activation=ember.nn.functional.gelu).activation_relu_or_gelu == 2


def test_fx_names_dispatching_wrappers_as_the_functions_they_wrap():
    # in a fresh process: fx's table of ember's functions is made before the wrappers replace them
    code = textwrap.dedent("""
        import ember

        class Net(ember.nn.Module):
            def forward(self, x):
                return ember.nn.functional.gelu(ember.relu(x)).sum()

        before = ember.fx.symbolic_trace(Net()).code

        class Sub(ember.Tensor):   # installs the dispatching wrappers
            pass

        traced = ember.fx.symbolic_trace(Net())
        x = ember.randn(3)
        print(traced.code == before, "ember._C._nn.gelu(" in traced.code, bool(ember.equal(traced(x), Net()(x))))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.stdout.split() == ["True", "True", "True"], result.stderr[-2000:]


def test_functions_kept_from_before_dispatch_was_installed_still_pickle(tmp_path):
    # a layer holding F.relu made before the wrappers replaced it: plain pickle and ember.save -> torch.load
    code = textwrap.dedent(f"""
        import pickle
        import ember

        layer = ember.nn.TransformerEncoderLayer(8, 2)

        class Sub(ember.Tensor):   # installs the dispatching wrappers
            pass

        again = pickle.loads(pickle.dumps(layer))
        ember.save(layer, {str(tmp_path / "layer.pt")!r})
        x = ember.randn(3, 1, 8)
        layer.eval(), again.eval()
        print(again.activation is layer.activation, bool(ember.equal(again(x), layer(x))))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.stdout.split() == ["True", "True"], result.stderr[-2000:]
    loaded = torch.load(tmp_path / "layer.pt", weights_only=False)
    assert loaded.activation is torch.nn.functional.relu


def test_real_pytorch_tensors_given_to_ember_are_data_not_tensor_likes():
    class Sub(ember.Tensor):   # installs the dispatching wrappers
        pass

    theirs = torch.arange(4.0)
    assert ember.from_dlpack(theirs).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert ember.add(ember.as_tensor(theirs.numpy()), 1).tolist() == [1.0, 2.0, 3.0, 4.0]
    assert not ember.overrides.has_torch_function((theirs,))


def test_scalar_conversion_warning_names_the_caller_while_dispatch_is_installed(monkeypatch):
    # Pyro defines a tensor subclass, so Tensor.__float__ runs through a dispatching wrapper: the warning must
    # still name the line calling float(), as PyTorch's does
    class Sub(ember.Tensor):   # installs the dispatching wrappers
        pass

    monkeypatch.setattr(ember._tensor, "_scalar_warned", [])
    x = ember.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="Converting a tensor with requires_grad=True to a scalar") as caught:
        float(x.sum())
    assert [w.filename for w in caught] == [__file__]


def _subclasses_built_in_new(lib):
    # Pyro's ProvenanceTensor returns data.as_subclass(cls) from __new__; others use _make_subclass and an __init__
    # calling super().__init__(): PyTorch's Tensor.__init__ leaves the made tensor alone
    class Tagged(lib.Tensor):
        def __new__(cls, data, tag=None):
            result = data.as_subclass(cls)
            result.tag = tag
            return result

    class Made(lib.Tensor):
        def __new__(cls, data, tag=None):
            return lib.Tensor._make_subclass(cls, data, False)

        def __init__(self, data, tag=None):
            super().__init__()
            self.tag = tag

    class Plain(lib.Tensor):
        pass

    leaf = lib.ones(2, requires_grad=True)
    made = lib.Tensor._make_subclass(Made, leaf)
    grad = lib.Tensor._make_subclass(Made, leaf * 2, True)
    out = [(type(t).__name__, t.tag, t.tolist())
           for t in (Tagged(lib.ones(2), "x"), Made(lib.ones(2), "y"), Tagged(lib.ones(1), tag="z"))]
    out += [Plain([1.0, 2.0]).tolist(), list(Plain(2).shape)]
    out += [made.requires_grad, made.grad_fn is None, made.data_ptr() == leaf.data_ptr(), made._cdata == leaf._cdata,
            grad.requires_grad, grad.is_leaf]
    with pytest.raises(TypeError) as error:
        lib.Tensor._make_subclass(int, leaf)
    return out + [str(error.value)]


def test_subclasses_built_in_new_keep_their_data():
    assert _subclasses_built_in_new(ember) == _subclasses_built_in_new(torch)


def _distributions_keep_subclasses(lib):
    # Pyro's TraceGraph_ELBO tracks provenance through a __torch_function__ subclass: torch.distributions calls the
    # public functions (broadcast_tensors, stack, F.binary_cross_entropy_with_logits...), so the subclass survives
    class Tracked(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return super().__torch_function__(func, types, args, kwargs or {})

    D = lib.distributions
    z = lib.ones(3).as_subclass(Tracked)
    value = lib.full((3,), 0.5)
    cases = [(D.Normal(6 * z - 3, 1.0), value), (D.Bernoulli(z * 0.5), lib.ones(3)), (D.Beta(z + 1.0, 2.0), value),
             (D.Categorical(logits=lib.stack([z, 1 - z], -1)), lib.zeros(3, dtype=lib.long)),
             (D.Dirichlet(lib.stack([z + 1, 2 - z], -1)), lib.tensor([0.3, 0.7])), (D.HalfNormal(z + 1), value),
             (D.ContinuousBernoulli(probs=z * 0.5), value)]
    out = [type(D.utils.broadcast_all(z, 1.0)[1]).__name__]
    for d, sample in cases:
        out.append((type(d).__name__, type(d.log_prob(sample)).__name__))
    with pytest.raises(ValueError) as error:
        D.utils.broadcast_all("a", 1.0)
    return out + [str(error.value)]


def test_distributions_call_public_functions_that_subclasses_see():
    assert _distributions_keep_subclasses(ember) == _distributions_keep_subclasses(torch)


def test_torch_functional_names_are_the_dispatching_functions():
    """``torch.functional`` defines ``torch.norm`` and kin: once the wrappers are installed it holds them too."""
    import ember.functional as functional
    ember.overrides.enable_torch_function_dispatch()
    assert functional.norm is ember.norm and functional.einsum is ember.einsum
