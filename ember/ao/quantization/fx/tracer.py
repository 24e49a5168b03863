"""The tracer of FX graph mode quantization (``torch.ao.quantization.fx.tracer``)."""
from ember.fx import Tracer
from ember.fx.proxy import Scope

from ...nn.intrinsic import _FusedModule

__all__ = ["QuantizationTracer"]


class QuantizationTracer(Tracer):
    """A ``Tracer`` that also keeps as leaves the modules named or typed in ``skipped_module_names`` /
    ``skipped_module_classes`` (standalone, non-traceable and custom modules) and fused modules; it notes each
    node's module scope."""

    def __init__(self, skipped_module_names, skipped_module_classes):
        super().__init__()
        self.skipped_module_names = skipped_module_names
        self.skipped_module_classes = skipped_module_classes
        self.scope = Scope("", None)
        self.record_stack_traces = True

    def is_leaf_module(self, m, module_qualified_name):
        return (super().is_leaf_module(m, module_qualified_name)
                or module_qualified_name in self.skipped_module_names
                or type(m) in self.skipped_module_classes
                or isinstance(m, _FusedModule))
