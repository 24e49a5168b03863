"""``ember.quantization.quantize_fx``: ``ember.ao.quantization.quantize_fx`` under its older name."""
from ember.ao.quantization.fx.graph_module import ObservedGraphModule  # noqa: F401
from ember.ao.quantization.quantize_fx import (QuantizationTracer, Scope, ScopeContextManager,  # noqa: F401
                                               _check_is_graph_module, _convert_fx, _fuse_fx, _prepare_fx,
                                               _swap_ff_with_fxff, convert_fx, fuse_fx, prepare_fx, prepare_qat_fx)
