"""ember.jit: one IR for trace, script, save/load, freezing and export.

``trace``/``trace_module`` record ops at the dispatch point; ``script`` compiles Python source; ``save``/``load``
write and read ember's archives and read PyTorch's TorchScript archives; ``freeze`` and ``optimize_for_inference``
rewrite graphs for deployment. The language helpers model code calls (``is_scripting``, ``annotate``, ``fork``...)
and the fuser switches work in eager code too.
"""
from ._api import freeze, optimize_for_inference, trace, trace_module
from ._fusion import enable_onednn_fusion, fuser, onednn_fusion_enabled, optimized_execution, set_fusion_strategy, \
    strict_fusion
from ._language import Attribute, Error, Final, Future, ScriptWarning, annotate, fork, interface, is_scripting, \
    is_tracing, isinstance, script_if_tracing, wait
from ._module import RecursiveScriptModule, ScriptFunction, ScriptModule, TopLevelTracedModule, TracedModule
from ._overloads import _overload, _overload_method  # noqa: F401  (TorchScript's overload declarations)
from ._script import export, ignore, script, unused
from ._serialization import load, save
from ._trace import TracerWarning, TracingCheckError

__all__ = ["trace", "trace_module", "script", "ignore", "unused", "export", "freeze", "optimize_for_inference",
           "ScriptModule", "RecursiveScriptModule", "TracedModule", "TopLevelTracedModule", "ScriptFunction",
           "TracerWarning", "TracingCheckError", "save", "load", "is_scripting",
           "is_tracing", "annotate", "Attribute", "Final", "interface", "isinstance", "fork", "wait", "Future",
           "script_if_tracing", "Error", "ScriptWarning", "optimized_execution", "fuser", "set_fusion_strategy",
           "enable_onednn_fusion", "onednn_fusion_enabled", "strict_fusion"]
