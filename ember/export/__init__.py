"""ember.export: PyTorch 2.x's ``torch.export`` on the jit's tracing IR.

``export`` traces a module once into an ``ExportedProgram`` (one graph of ember's ops with the module's state lifted
to inputs, PyTorch's graph signature, guards on the input shapes, the sizes ``dynamic_shapes`` marks left dynamic);
``ExportedProgram.module()`` runs it; ``save``/``load`` write and read it without running code.
"""
from ._serialize import load, save
from ._trace import export
from .dynamic_shapes import AdditionalInputs, Dim, ShapesCollection, dims
from .exported_program import ExportedProgram
from .graph_signature import (ConstantArgument, ExportGraphSignature, InputKind, InputSpec, OutputKind, OutputSpec,
                              TensorArgument)

__all__ = ["AdditionalInputs", "ConstantArgument", "Dim", "ExportGraphSignature", "ExportedProgram", "InputKind",
           "InputSpec", "OutputKind", "OutputSpec", "ShapesCollection", "TensorArgument", "dims", "export", "load",
           "save"]
