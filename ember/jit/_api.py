"""``trace`` and ``trace_module`` with PyTorch's signatures, and ``check_trace``'s re-run and comparison."""
import inspect
import warnings

import numpy

from .._tensor import Tensor
from ..nn.modules.module import Module
from ._ir import Graph
from ._module import ScriptFunction, TopLevelTracedModule, TracedModule, mirror
from ._trace import TracerWarning, TracingCheckError, is_draw, run_traced, set_output

_NONDETERMINISTIC = {"dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"}


def _as_tuple(example_inputs):
    if isinstance(example_inputs, Tensor):
        return (example_inputs,)
    if isinstance(example_inputs, (tuple, list)):
        return tuple(example_inputs)
    raise TypeError(f"example_inputs must be a Tensor or a tuple of Tensors, got {type(example_inputs).__name__}")


def _parameter_names(function):
    """The names of ``function``'s leading positional parameters (a module's: its forward's), for the graph's
    inputs."""
    try:
        parameters = inspect.signature(function.forward if isinstance(function, Module) else function).parameters
    except (TypeError, ValueError):
        return ()
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = []
    for parameter in parameters.values():
        if parameter.kind not in positional:
            break
        names.append(parameter.name)
    return tuple(names)


def _keyword_call(function, kwargs):
    """For example inputs given by keyword: (a function taking them by position, their names, the inputs). The
    graph's inputs are the given keywords in the order of ``function``'s parameters, as PyTorch's."""
    if not isinstance(kwargs, dict):
        raise TypeError(f"example_kwarg_inputs must be a dict of parameter names to inputs, got "
                        f"{type(kwargs).__name__}")
    try:
        order = list(inspect.signature(function.forward if isinstance(function, Module) else function).parameters)
    except (TypeError, ValueError):
        order = []
    names = tuple([name for name in order if name in kwargs] + [name for name in kwargs if name not in order])

    def call(*args):
        return function(**dict(zip(names, args)))
    return call, names, tuple(kwargs[name] for name in names)


def _trace_graph(function, inputs, attributes, modules, strict, names=None):
    graph = Graph()
    names = _parameter_names(function) if names is None else names
    output, tracer = run_traced(function, inputs, graph, attributes, modules, names)
    set_output(graph, tracer, output, strict)
    return graph


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5,
          strict=True, _force_outplace=False, _module_class=None, _compilation_unit=None,
          example_kwarg_inputs=None, _store_inputs=True):
    """Runs ``func`` (a function or Module) on ``example_inputs``, recording each op into a graph; returns a
    ScriptFunction or a traced ScriptModule that replays it."""
    by_keyword = example_kwarg_inputs is not None
    if by_keyword:
        example_inputs = example_kwarg_inputs
    if isinstance(func, Module):
        return trace_module(func, {"forward": example_inputs}, None, check_trace,
                            None if check_inputs is None else [{"forward": c} for c in check_inputs],
                            check_tolerance, strict, example_inputs_is_kwarg=by_keyword)
    name = getattr(func, "__name__", "function")
    call, names, inputs = _keyword_call(func, example_inputs) if by_keyword else \
        (func, None, _as_tuple(example_inputs))
    graph = _trace_graph(call, inputs, {}, (), strict, names)
    traced = ScriptFunction(name, graph)
    if check_trace:
        checks = [_example(c, names) for c in check_inputs] if check_inputs else [inputs]
        _check(graph, call, traced, checks, check_tolerance, lambda inputs: _trace_graph(call, inputs, {}, (), strict,
                                                                                       names))
    return traced


def _example(example, names):
    """Example inputs as a tuple: a dict of keyword inputs in the order ``names``."""
    return tuple(example[name] for name in names) if names is not None else _as_tuple(example)


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5, strict=True,
                 _force_outplace=False, _module_class=None, _compilation_unit=None, example_inputs_is_kwarg=False,
                 _store_inputs=True):
    """Traces the methods of ``mod`` named in ``inputs`` (method name -> example inputs) into one ScriptModule that
    shares ``mod``'s parameters and buffers."""
    if not isinstance(mod, Module):
        raise AttributeError("expected torch.nn.Module as the first argument")
    if not isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    traced = mirror(mod, TopLevelTracedModule, TracedModule)
    attributes = {}
    for prefix, module in mod.named_modules():
        for kind in (module._parameters, module._buffers):
            for name, tensor in kind.items():
                if tensor is not None and id(tensor) not in attributes:
                    attributes[id(tensor)] = (tensor, f"{prefix}.{name}" if prefix else name)
    modules = list(mod.named_modules())
    for method_name, example in inputs.items():
        method = mod if method_name == "forward" else getattr(mod, method_name)
        method, names, example = _keyword_call(method, example) if example_inputs_is_kwarg else \
            (method, None, _as_tuple(example))

        def retrace(args, method=method, names=names):
            return _trace_graph(method, args, attributes, modules, strict, names)
        graph = retrace(example)
        traced._define(method_name, graph)
        if check_trace:
            checks = [_example(c[method_name], names) for c in check_inputs] if check_inputs else [example]
            replay = traced if method_name == "forward" else getattr(traced, method_name)
            _check(graph, method, replay, checks, check_tolerance, retrace)
    return traced


def _structure(graph):
    return [(node.kind, len(node.inputs)) for node in graph.nodes]


def _flatten(output):
    if isinstance(output, (tuple, list)):
        return [t for o in output for t in _flatten(o)]
    return [output]


def _clone(inputs):
    return tuple(_clone(t) if isinstance(t, (tuple, list)) else t.detach().clone().requires_grad_(t.requires_grad)
                 for t in inputs)


def _check(graph, python, traced, checks, tolerance, retrace):
    """check_trace: re-traces on each check input (the graphs must agree) and compares replay with Python."""
    nondeterministic = [node for node in graph.nodes if node.kind[7:] in _NONDETERMINISTIC
                        and len(node.inputs) > 2 and node.inputs[2].node is not None
                        and node.inputs[2].node.value is True or is_draw(node.kind)]
    if nondeterministic:
        listed = "\n".join(f"\t{node}" for node in nondeterministic)
        warnings.warn(f"Trace had nondeterministic nodes. Did you forget call .eval() on your model? Nodes:\n{listed}"
                      "\nThis may cause errors in trace checking. To disable trace checking, pass check_trace=False "
                      "to torch.jit.trace()", TracerWarning, stacklevel=3)
    for inputs in checks:
        again = retrace(_clone(inputs))
        if _structure(again) != _structure(graph):
            raise TracingCheckError(f"First graph:\n{graph}\nSecond graph:\n{again}", None)
        expected = _flatten(python(*_clone(inputs)))
        got = _flatten(traced(*_clone(inputs)))
        for i, (e, g) in enumerate(zip(expected, got)):
            if not isinstance(e, Tensor):
                continue
            a, b = numpy.asarray(g.detach()), numpy.asarray(e.detach())
            if a.shape != b.shape or not numpy.allclose(a, b, rtol=tolerance, atol=1e-5, equal_nan=True):
                difference = numpy.abs(a.astype(float) - b.astype(float)).max() if a.shape == b.shape else "shape"
                warnings.warn(f"Output nr {i + 1}. of the traced function does not match the corresponding output "
                              f"of the Python function. Detailed error:\nTensor-likes are not close!\nGreatest "
                              f"absolute difference: {difference} (up to {tolerance} allowed)", TracerWarning,
                              stacklevel=3)


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """A copy of a traced module in eval mode whose parameters and buffers are constants of its graph, folded into
    what depends on them alone."""
    from ._module import RecursiveScriptModule, ScriptModule
    from ._passes import fold_constants, inline_attributes
    from ._serialization import copy_graph
    if not isinstance(mod, ScriptModule):
        raise RuntimeError("Freezing expects a ScriptModule as input. Please use torch.jit.script or "
                           "torch.jit.trace to script your 'nn.Module'.")
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval mode. Please call .eval() on "
                           "your module before freezing.")
    frozen = RecursiveScriptModule(mod.original_name)
    frozen.training = False
    for name, graph in mod._graphs.items():
        frozen._define(name, fold_constants(inline_attributes(copy_graph(graph), mod)))
    return frozen


def optimize_for_inference(mod, other_methods=None):
    """Freezes ``mod`` (in eval mode), drops dropout, and folds each batch norm into the convolution before it."""
    from ._module import RecursiveScriptModule, ScriptModule
    from ._passes import drop_dropout, fold_batch_norm
    if not isinstance(mod, ScriptModule):
        raise RuntimeError("optimize_for_inference expects a ScriptModule as input. Please use torch.jit.script or "
                           "torch.jit.trace to script your 'nn.Module'.")
    frozen = freeze(mod.eval()) if mod._parameters or mod._buffers or mod._modules else mod
    optimized = RecursiveScriptModule(frozen.original_name)
    optimized.training = False
    for name, graph in frozen._graphs.items():
        optimized._define(name, fold_batch_norm(drop_dropout(graph)))
    return optimized
