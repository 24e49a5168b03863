"""ember.onnx: ``export`` a model to ONNX (on the ``onnx`` package, imported only when exporting)."""
import enum

from . import errors
from ._program import ONNXProgram
from .errors import OnnxExporterError, OnnxExporterWarning, UnsupportedOperatorError

__all__ = ["export", "TrainingMode", "OperatorExportTypes", "is_in_onnx_export", "errors", "ONNXProgram",
           "OnnxExporterError", "OnnxExporterWarning", "UnsupportedOperatorError"]

_exporting = False


class TrainingMode(enum.IntEnum):
    """The mode a model is exported in: EVAL (default), PRESERVE (as it is) or TRAINING."""
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


class OperatorExportTypes(enum.IntEnum):
    """Accepted for PyTorch compatibility; ember always exports standard ONNX ops."""
    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3


def is_in_onnx_export():
    """True while ``export`` is tracing a model."""
    return _exporting


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None, output_names=None,
           opset_version=None, dynamo=True, external_data=True, dynamic_shapes=None, custom_translation_table=None,
           report=False, optimize=True, verify=False, profile=False, dump_exported_program=False, artifacts_dir=".",
           export_params=True, keep_initializers_as_inputs=False, dynamic_axes=None, training=TrainingMode.EVAL,
           operator_export_type=OperatorExportTypes.ONNX, do_constant_folding=True, custom_opsets=None,
           export_modules_as_functions=False, autograd_inlining=True):
    """Exports ``model`` (a Module, a traced ScriptModule, a function or an ``ExportedProgram``, whose example
    inputs stand in for missing ``args``) run on ``args`` to an ONNX file ``f``
    (opset 17-20, default 17); returns an ``ONNXProgram`` of it (``None`` with ``dynamo=False``, as PyTorch's).

    ``input_names``/``output_names`` name the graph's tensors; ``dynamic_axes`` maps a name to the axes (a list, or
    a dict axis -> name) left symbolic. ``export_params=False`` makes the weights graph inputs;
    ``do_constant_folding`` evaluates what depends only on weights at export time; ``training`` picks the mode
    traced. The dynamo-only keywords (``dynamo``, ``dynamic_shapes``, ``external_data``, ``report``, ``optimize``,
    ``verify``, ``profile``, ``dump_exported_program``, ``artifacts_dir``, ``custom_translation_table``) are
    accepted and change nothing but the return value: ember has one exporter, and writes its graphs in one file.
    """
    global _exporting
    from ..jit import ScriptModule, trace
    from ..jit._passes import fold_constants
    from ..jit._serialization import copy_graph
    from ..nn.modules.module import Module
    from ._graph_export import export_graph, training_mode
    opset = 17 if opset_version is None else opset_version
    if not 17 <= opset <= 20:
        raise ValueError(f"ember.onnx.export supports opset versions 17 to 20, got {opset}")
    if kwargs:
        raise ValueError("ember.onnx.export: keyword inputs are not supported; pass every input in args")
    exported = None
    if type(model).__name__ == "ExportedProgram" and hasattr(model, "module"):   # torch.export's program
        exported, model = model, model.module()
        if not args and exported.example_inputs:
            args = exported.example_inputs[0]
    args = (args,) if not isinstance(args, tuple) else args
    if args and isinstance(args[-1], dict) and not args[-1]:
        args = args[:-1]   # PyTorch's convention: a trailing empty dict stands for "no keyword arguments"
    module = model if isinstance(model, Module) else None
    _exporting = True
    try:
        if isinstance(model, ScriptModule) and "forward" in model._graphs:
            graph = model.graph
        else:
            # an exported program keeps the mode it was captured in (its module refuses train()/eval(), as torch's)
            mode = training_mode(module, training) if module is not None and exported is None else _nothing()
            with mode:
                traced = trace(model, args, check_trace=False)
            graph = traced.graph
            module = traced if module is not None else None
        graph = copy_graph(graph)
        if do_constant_folding:
            fold_constants(graph, module if export_params else None)
        proto = export_graph(module, graph, f, input_names, output_names, dynamic_axes, opset, export_params,
                             verbose)
        return ONNXProgram(proto, exported) if dynamo else None
    finally:
        _exporting = False


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
