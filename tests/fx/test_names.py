"""The tables of torch's printed names and call forms in ember.fx._torch_names, rebuilt from the installed torch."""
import ast
import inspect
import textwrap

import torch
import torch.functional
import torch.nn.functional
from torch.fx.node import _get_qualified_name

import ember
import ember.fft
import ember.linalg
import ember.nn.functional
import ember.special
from ember.fx._names import qualified_name, recorded_call
from ember.fx._torch_names import TORCH_CALL_FORMS, TORCH_QUALIFIED_NAMES


def public_callables(namespace, ember_namespace):
    for name in dir(namespace):
        value = getattr(namespace, name)
        if (not name.startswith("_") and callable(value) and not isinstance(value, type)
                and not inspect.ismodule(value) and hasattr(ember_namespace, name)):
            yield name, value


def torch_qualified_names():
    names = {}
    for namespace in (torch, torch.nn.functional, torch.linalg, torch.fft, torch.special):
        ember_namespace = {"torch": ember, "torch.nn.functional": ember.nn.functional, "torch.linalg": ember.linalg,
                           "torch.fft": ember.fft, "torch.special": ember.special}[namespace.__name__]
        for name, value in public_callables(namespace, ember_namespace):
            try:
                printed = _get_qualified_name(value)
            except Exception:
                continue
            if printed != f"{namespace.__name__}.{name}":
                names[f"{namespace.__name__}.{name}"] = printed
    return names


def call_form(fn):
    """(parameter list, positional parameters, keyword parameters) of fn's handle_torch_function call."""
    closure = inspect.getclosurevars(fn).nonlocals if getattr(fn, "__closure__", None) else {}
    target = closure.get("if_false", fn)   # boolean_dispatch
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(target)))
    except (OSError, TypeError):
        return None
    for node in ast.walk(tree.body[0]):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "handle_torch_function":
            if not all(isinstance(a, ast.Name) for a in node.args[2:]):
                return None
            if not all(k.arg and isinstance(k.value, ast.Name) for k in node.keywords):
                return None
            params, star = [], False
            for p in inspect.signature(target).parameters.values():
                if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    return None
                if p.kind == p.KEYWORD_ONLY and not star:
                    params.append("*")
                    star = True
                if p.default is p.empty:
                    params.append(p.name)
                    continue
                try:
                    if ast.literal_eval(repr(p.default)) != p.default:
                        return None
                except (ValueError, SyntaxError):
                    return None
                params.append(f"{p.name}={p.default!r}")
            keywords = [k.arg if k.arg == k.value.id else f"{k.arg}={k.value.id}" for k in node.keywords]
            return ", ".join(params), ", ".join(a.id for a in node.args[2:]), ", ".join(keywords)
    return None


def torch_call_forms():
    forms = {}
    for namespace, ember_namespace, prefix in ((torch.nn.functional, ember.nn.functional, "torch.nn.functional."),
                                               (torch.functional, ember, "torch.")):
        for name, value in public_callables(namespace, ember_namespace):
            if getattr(value, "__module__", "") == namespace.__name__:
                form = call_form(value)
                if form:
                    forms[prefix + name] = form
    return forms


def test_qualified_names_table_is_torchs():
    assert TORCH_QUALIFIED_NAMES == torch_qualified_names()


def test_call_forms_table_is_torchs():
    assert TORCH_CALL_FORMS == torch_call_forms()


def test_ember_functions_print_as_torch_prints_them():
    for torch_fn, ember_fn in [(torch.relu, ember.relu), (torch.nn.functional.relu, ember.nn.functional.relu),
                               (torch.nn.functional.gelu, ember.nn.functional.gelu), (torch.cat, ember.cat),
                               (torch.split, ember.split), (torch.nn.functional.conv2d, ember.nn.functional.conv2d),
                               (torch.linalg.svd, ember.linalg.svd), (torch.special.ndtr, ember.special.ndtr)]:
        assert qualified_name(ember_fn).replace("ember", "torch", 1) == _get_qualified_name(torch_fn)
    # One ember function under two public names prints as the first namespace has it (torch.erf for special.erf).
    assert ember.special.erf is ember.erf and qualified_name(ember.special.erf) == "ember.erf"
    assert recorded_call(ember.nn.functional.max_pool2d, (1, 2), {"padding": 1}) == (
        (1, 2), {"stride": None, "padding": 1, "dilation": 1, "ceil_mode": False, "return_indices": False})
    assert recorded_call(ember.relu, (1,), {}) == ((1,), {})
