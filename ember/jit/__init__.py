"""ember.jit: one IR for trace, save/load and export — ``trace``, ``trace_module``, ``save``, ``load``."""
from ._api import trace, trace_module
from ._module import ScriptFunction, ScriptModule
from ._serialization import load, save
from ._trace import TracerWarning, TracingCheckError

__all__ = ["trace", "trace_module", "ScriptModule", "ScriptFunction", "TracerWarning", "TracingCheckError", "save", "load"]
