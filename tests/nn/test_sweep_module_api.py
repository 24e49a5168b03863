"""nn.Module's own API (state_dict, named_modules, to, hooks, containers) compared with PyTorch: differences found
by the module-API sweep, each as PyTorch 2.13 behaves."""
import collections
import importlib
import warnings
import weakref

import pytest

from tests.oracle import same_listing


def linear(lib):
    lib.manual_seed(0)
    return lib.nn.Linear(2, 2)


def warned(lib, fn):
    """``fn(lib)``'s result and the categories and messages of the warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(lib)
    return result, [(w.category.__name__, str(w.message)) for w in caught]


@pytest.mark.parametrize("args", [(None, "x."), (None, "x.", True), ({"a": 1},)])
def test_state_dict_positional_arguments_warn(args):
    """PyTorch deprecates state_dict's positional arguments with a FutureWarning; ember took them silently."""
    same_listing(lambda lib: warned(lib, lambda lib: [str(k) for k in linear(lib).state_dict(*args)]))


def test_state_dict_keywords_win_over_positional_arguments():
    same_listing(lambda lib: warned(lib, lambda lib: list(linear(lib).state_dict(None, "x.", prefix="y."))))


def test_named_modules_memo_of_modules():
    """A memo given to named_modules holds modules (ember looked their ids up, so given modules were not skipped)."""
    def names(lib):
        net = lib.nn.Sequential(linear(lib), lib.nn.Sequential(lib.nn.ReLU()))
        memo = {net[0]}
        return [n for n, _ in net.named_modules(memo=memo)], len(memo)
    same_listing(names)


@pytest.mark.parametrize("method", ["to", "float", "double", "half"])
def test_complex_module_warns(method):
    """Moving a module to a complex dtype warns that complex modules are experimental (only ``to`` does)."""
    def convert(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = linear(lib).to(lib.complex64)
        converted = warned(lib, lambda lib: getattr(module, method)(*[lib.complex128][:method == "to"]))
        return str(converted[0].weight.dtype).split(".")[1], converted[1]
    same_listing(convert)


def test_load_state_dict_post_hook_returning_a_value():
    def load(lib):
        module = linear(lib)
        module.register_load_state_dict_post_hook(lambda mod, keys: keys)
        return module.load_state_dict(module.state_dict())
    same_listing(load)


@pytest.mark.parametrize("result", [3, (1, 2, 3), [(), {}]])
def test_forward_pre_hook_with_kwargs_bad_result(result):
    def call(lib):
        module = linear(lib)
        module.register_forward_pre_hook(lambda mod, args, kwargs: result, with_kwargs=True)
        return module(lib.ones(1, 2))
    same_listing(call)


@pytest.mark.parametrize("first,second", [("register_backward_hook", "register_full_backward_hook"),
                                          ("register_full_backward_hook", "register_backward_hook"),
                                          ("register_full_backward_pre_hook", "register_backward_hook"),
                                          ("register_backward_hook", "register_backward_hook")])
def test_backward_hook_kinds_do_not_mix(first, second):
    """PyTorch refuses legacy and full backward hooks on one module (pre-hooks go with either)."""
    def register(lib):
        module = linear(lib)
        getattr(module, first)(lambda *args: None)
        getattr(module, second)(lambda *args: None)
        return module._is_full_backward_hook
    same_listing(register)


def layers(lib, kind="Sequential"):
    lib.manual_seed(0)
    return getattr(lib.nn, kind)([lib.nn.ReLU(), lib.nn.Tanh()] if kind == "ModuleList"
                                 else {"a": lib.nn.ReLU(), "b": lib.nn.Tanh()} if kind == "ModuleDict"
                                 else lib.nn.Linear(1, 1))


def modules_of(container):
    return [(name, type(module).__name__) for name, module in container.named_children()]


@pytest.mark.parametrize("other", ["Sequential", 3, []])
def test_sequential_in_place_add(other):
    """``seq += other`` appends another Sequential's modules in place (ember had no __iadd__: a new Sequential)."""
    def add(lib):
        seq = layers(lib)
        result = seq.__iadd__(layers(lib, other) if other == "Sequential" else other)
        return result is seq, modules_of(seq)
    same_listing(add)


@pytest.mark.parametrize("kind", ["Sequential", "ModuleList"])
def test_pop_needs_a_key(kind):
    """PyTorch's Sequential.pop and ModuleList.pop take a key (ember's ModuleList popped the last by default)."""
    same_listing(lambda lib: layers(lib, kind).pop())


@pytest.mark.parametrize("kind", ["ModuleDict", "ParameterDict"])
@pytest.mark.parametrize("values", [3, [3], [("c", 1, 2)], [["c"]]])
def test_dict_update_refusals(kind, values):
    same_listing(lambda lib: getattr(lib.nn, kind)().update(values))


def test_module_dict_constructed_from_a_non_iterable():
    same_listing(lambda lib: lib.nn.ModuleDict(3))


@pytest.mark.parametrize("kind", ["ModuleDict", "ParameterDict"])
def test_dict_update_keeps_the_order_of_pairs(kind):
    """A ModuleDict keeps a plain dict's order, a ParameterDict sorts it; pairs and OrderedDicts keep theirs."""
    def update(lib):
        value = (lambda: lib.nn.ReLU()) if kind == "ModuleDict" else (lambda: lib.ones(1))
        container = getattr(lib.nn, kind)()
        container.update({"b": value(), "a": value()})
        container.update([("d", value()), ("c", value())])
        return list(container.keys())
    same_listing(update)


def test_parameter_dict_popitem_of_an_empty_dict():
    same_listing(lambda lib: lib.nn.ParameterDict().popitem())


def module_module(lib):
    return importlib.import_module(lib.__name__ + ".nn.modules.module")


def with_global_hook(lib, register, hook, body):
    """``body()`` with ``hook`` registered by ``nn.modules.module.<register>``, removed after."""
    handle = getattr(module_module(lib), register)(hook)
    try:
        return body()
    finally:
        handle.remove()


@pytest.mark.parametrize("kind", ["buffer", "parameter", "module"])
def test_global_registration_hooks(kind):
    """register_module_{buffer,parameter,module}_registration_hook see every registration, by any route (ember
    had none of them)."""
    def registrations(lib):
        seen = []

        def register():
            module = linear(lib)
            module.register_buffer("b", lib.ones(1))
            module.b = lib.zeros(1)
            module.register_parameter("p", None)
            module.q = lib.nn.Parameter(lib.ones(1))
            module.sub = lib.nn.ReLU()
            module.sub = None
            module.add_module("s2", lib.nn.Tanh())
            module.register_buffer("nb", None)
            lib.nn.Sequential(lib.nn.ReLU()).append(lib.nn.ReLU())
            return seen
        return with_global_hook(lib, f"register_module_{kind}_registration_hook",
                                lambda module, name, value: seen.append((type(module).__name__, name,
                                                                         type(value).__name__)), register)
    same_listing(registrations)


def test_global_registration_hook_replaces_the_value():
    def register(lib):
        module = linear(lib)
        return with_global_hook(lib, "register_module_buffer_registration_hook", lambda mod, name, value: value * 5,
                                lambda: (module.register_buffer("b", lib.ones(1)), module.b)[1])
    same_listing(register)


@pytest.mark.parametrize("input_grad", [True, False])
def test_global_full_backward_hooks(input_grad):
    """Global full backward (pre-)hooks run for every module, before the module's own; returned gradients replace
    the output gradients (pre-hooks) or input gradients."""
    def backward(lib):
        seen, net = [], lib.nn.Sequential(linear(lib), lib.nn.Tanh())
        net[0].register_full_backward_hook(lambda *args: seen.append("own"))
        net[0].register_full_backward_pre_hook(lambda *args: seen.append("own pre"))

        def hook(module, grad_input, grad_output):
            seen.append((type(module).__name__, [g is None for g in grad_input], len(grad_output)))

        def pre_hook(module, grad_output):
            seen.append((type(module).__name__, len(grad_output)))
            return (grad_output[0] * 2,)

        x = lib.ones(1, 2, requires_grad=input_grad)

        def run():
            net(x).sum().backward()
            return seen, net[0].weight.grad
        return with_global_hook(lib, "register_module_full_backward_hook", hook,
                                lambda: with_global_hook(lib, "register_module_full_backward_pre_hook", pre_hook, run))
    same_listing(backward)


@pytest.mark.parametrize("first,second", [("register_module_backward_hook", "register_module_full_backward_hook"),
                                          ("register_module_full_backward_hook", "register_module_backward_hook")])
def test_global_backward_hook_kinds_do_not_mix(first, second):
    def register(lib):
        module = module_module(lib)
        try:
            return with_global_hook(lib, first, lambda *args: None,
                                    lambda: with_global_hook(lib, second, lambda *args: None, lambda: None))
        finally:
            module._global_is_full_backward_hook = None   # the kind sticks after removal, in PyTorch too
    same_listing(register)


@pytest.mark.parametrize("dtype", ["int64", "bool", "uint8"])
@pytest.mark.parametrize("requires_grad", [True, False])
def test_parameter_of_an_integer_tensor(dtype, requires_grad):
    """A Parameter that requires grad must be floating point or complex (ember made integer ones)."""
    same_listing(lambda lib: lib.nn.Parameter(lib.ones(2, dtype=getattr(lib, dtype)), requires_grad=requires_grad))


@pytest.mark.parametrize("frozen", [False, True])
def test_module_type_to_an_integer_dtype(frozen):
    """Module.type(int) sets each parameter's data: refused for a parameter that requires grad."""
    def convert(lib):
        module = linear(lib).requires_grad_(not frozen)
        return [str(v.dtype).split(".")[1] for v in module.type(lib.int32).state_dict().values()]
    same_listing(convert)


@pytest.mark.parametrize("assign", [False, True])
def test_load_state_dict_reports_a_failed_copy(assign):
    """A copy or assignment that raises is reported among load_state_dict's errors, with the shapes."""
    same_listing(lambda lib: linear(lib).load_state_dict({"weight": lib.ones(2, 2, device="meta"),
                                                          "bias": lib.ones(2, dtype=lib.int64)}, assign=assign))


@pytest.mark.parametrize("frozen", [False, True])
def test_load_state_dict_assign_keeps_requires_grad(frozen):
    """assign=True gives the module's requires_grad to the loaded Parameter (a Parameter given too)."""
    def load(lib):
        module = linear(lib).requires_grad_(not frozen)
        weight = lib.nn.Parameter(lib.ones(2, 2))
        module.load_state_dict({"weight": weight, "bias": lib.ones(2)}, assign=True)
        return module.weight is weight, module.weight.requires_grad, module.bias.requires_grad
    same_listing(load)


def backward_hook_log(lib, module, args, use):
    """What a module's full backward pre-hook and hook receive and the gradients of ``args`` after
    ``use(module(*args)).backward()``: each gradient's shape and absolute sum, or None."""
    seen = []

    def shapes(grads):
        return [None if g is None else (tuple(g.shape), round(float(g.abs().sum()), 4)) for g in grads]
    module.register_full_backward_pre_hook(lambda mod, grad_output: seen.append(("pre", shapes(grad_output))))
    module.register_full_backward_hook(lambda mod, grad_input, grad_output: seen.append(
        ("hook", shapes(grad_input), shapes(grad_output))))
    use(module(*args)).backward()
    return seen, [None if not isinstance(a, lib.Tensor) or a.grad is None else shapes([a.grad]) for a in args]


@pytest.mark.parametrize("case", ["bilinear, one input needs grad", "gru, h_n unused", "gru with h0",
                                  "non-tensor output"])
def test_full_backward_hook_gradients_per_argument(case):
    """grad_input has an entry per argument (zeros for a tensor that needs no grad, as PyTorch's), grad_output one
    per output (None for an output the loss does not use); ember passed only the inputs that need grad and zeros
    for unused outputs."""
    def run(lib):
        lib.manual_seed(0)
        x = lib.ones(1, 3, 2, requires_grad=True)
        if case.startswith("bilinear"):
            return backward_hook_log(lib, lib.nn.Bilinear(2, 3, 4), [lib.ones(1, 2, requires_grad=True),
                                                                     lib.ones(1, 3)], lambda out: out.sum())
        if case.startswith("gru"):
            args = [x] if case == "gru, h_n unused" else [x, lib.zeros(1, 1, 2)]
            return backward_hook_log(lib, lib.nn.GRU(2, 2, batch_first=True), args, lambda out: out[0].sum())
        module = type("Pair", (lib.nn.Module,), {"forward": lambda self, t: (t * 2, 3)})()
        return backward_hook_log(lib, module, [x], lambda out: out[0].sum())
    same_listing(run)


@pytest.mark.parametrize("kind", ["hook", "pre_hook"])
def test_full_backward_hook_returning_the_wrong_number_of_gradients(kind):
    def run(lib):
        module = linear(lib)
        if kind == "hook":
            module.register_full_backward_hook(lambda mod, grad_input, grad_output: (grad_input[0], grad_input[0]))
        else:
            module.register_full_backward_pre_hook(lambda mod, grad_output: (grad_output[0], None))
        module(lib.ones(1, 2, requires_grad=True)).sum().backward()
    same_listing(run)


def test_full_backward_hook_without_input_grads_must_return_none():
    def run(lib):
        module = linear(lib)
        module.register_full_backward_hook(lambda mod, grad_input, grad_output: (lib.ones(1, 2),))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module(lib.ones(1, 2)).sum().backward()
    same_listing(run)


@pytest.mark.parametrize("kind", ["list", "dict", "tuple", "namedtuple"])
def test_full_backward_hook_of_a_module_returning_a_container(kind):
    """Only a tensor or a tuple (a namedtuple kept as one) output is hooked; PyTorch warns about others (a list
    too) and their backward hooks do not fire (ember hooked lists and broke namedtuples)."""
    def run(lib):
        pair = collections.namedtuple("Pair", "a b")

        def forward(self, x):
            return {"list": [x * 2], "dict": {0: x * 2}, "tuple": (x * 2, 1), "namedtuple": pair(x * 2, x * 3)}[kind]
        module = type("Out", (lib.nn.Module,), {"forward": forward})()
        seen = []
        module.register_full_backward_hook(lambda mod, grad_input, grad_output: seen.append(len(grad_output)))
        output, caught = warned(lib, lambda lib: module(lib.ones(2, requires_grad=True)))
        output[0].sum().backward()
        return type(output).__name__, seen, caught
    same_listing(run)


@pytest.mark.parametrize("persistent", [True, False])
@pytest.mark.parametrize("requires_grad", [True, False])
def test_buffer_is_a_marked_tensor(persistent, requires_grad):
    """nn.Buffer(t) is a plain tensor sharing t's memory, marked (isinstance Buffer, persistent), requires_grad
    kept; assigned to a module it is registered as it is, by its persistent flag (register_buffer takes its own)."""
    def make(lib):
        data = lib.ones(2, requires_grad=requires_grad)
        buffer = lib.nn.Buffer(data, persistent=persistent)
        module, other = linear(lib), linear(lib)
        module.b = buffer
        other.register_buffer("b", lib.nn.Buffer(data, persistent=persistent))
        return (type(buffer).__name__, repr(buffer), buffer.requires_grad, buffer.persistent,
                isinstance(buffer, lib.nn.Buffer), isinstance(data, lib.nn.Buffer), module.b is buffer,
                list(module.state_dict()), list(other.state_dict()), buffer.data_ptr() == data.data_ptr())
    same_listing(make)


def test_module_conversion_keeps_the_gradient_object():
    """Module.double() converts a parameter's gradient in place of its data (the same object, as in PyTorch)."""
    def convert(lib):
        module = linear(lib)
        module(lib.ones(1, 2)).sum().backward()
        grad = module.weight.grad
        module.double()
        return module.weight.grad is grad, str(grad.dtype).split(".")[1]
    same_listing(convert)


def test_calling_a_module_whose_init_was_not_run():
    """The AttributeError names the first hook store PyTorch's call looks at."""
    same_listing(lambda lib: type("NoInit", (lib.nn.Module,), {"__init__": lambda self: None})()(lib.ones(1)))


@pytest.mark.parametrize("mode", ["data", "swap", "overwrite", "swap with a weakref"])
def test_future_conversion_modes(mode):
    """torch.__future__'s settings choose how Module conversions give parameters and gradients their new values:
    through .data (the default), swapped into the same objects, or as new objects (ember had no __future__)."""
    def convert(lib):
        future = lib.__future__
        future.set_swap_module_params_on_conversion(mode.startswith("swap"))
        future.set_overwrite_module_params_on_conversion(mode == "overwrite")
        try:
            module = linear(lib)
            module(lib.ones(1, 2)).sum().backward()
            weight, grad = module.weight, module.weight.grad
            ref = weakref.ref(weight) if mode == "swap with a weakref" else None
            module.double()
            return (module.weight is weight, module.weight.grad is grad, ref is None,
                    [str(t.dtype).split(".")[1] for t in (module.weight, module.weight.grad, weight, grad)],
                    type(module.weight).__name__, module.weight.requires_grad, module.weight.grad.requires_grad)
        finally:
            future.set_swap_module_params_on_conversion(False)
            future.set_overwrite_module_params_on_conversion(False)
    same_listing(convert)
