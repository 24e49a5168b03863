"""ember.jit: one IR for trace, save/load, freezing and export — ``trace``, ``trace_module``, ``save``, ``load``,
``freeze``, ``optimize_for_inference``."""
from ._api import freeze, optimize_for_inference, trace, trace_module
from ._module import ScriptFunction, ScriptModule
from ._serialization import load, save
from ._trace import TracerWarning, TracingCheckError

__all__ = ["trace", "trace_module", "freeze", "optimize_for_inference", "ScriptModule", "ScriptFunction", "TracerWarning", "TracingCheckError", "save", "load"]
