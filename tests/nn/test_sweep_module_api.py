"""nn.Module's own API (state_dict, named_modules, to, hooks, containers) compared with PyTorch: differences found
by the module-API sweep, each as PyTorch 2.13 behaves."""
import warnings

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
