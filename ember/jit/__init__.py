"""ember.jit: one IR for trace, script, save/load, freezing and export.

``trace``/``trace_module`` record ops at the dispatch point; ``script`` compiles Python source; ``save``/``load``
write and read ember's archives and read PyTorch's TorchScript archives; ``freeze`` and ``optimize_for_inference``
rewrite graphs for deployment.
"""
from ._api import freeze, optimize_for_inference, trace, trace_module
from ._module import ScriptFunction, ScriptModule
from ._script import export, ignore, script, unused
from ._serialization import load, save
from ._trace import TracerWarning, TracingCheckError

__all__ = ["trace", "trace_module", "script", "ignore", "unused", "export", "freeze", "optimize_for_inference",
           "ScriptModule", "ScriptFunction", "TracerWarning", "TracingCheckError", "save", "load"]
