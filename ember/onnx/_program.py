"""``torch.onnx.ONNXProgram``: what ``onnx.export`` returns: the exported model, callable through onnxruntime with
ember tensors, to save, optimize, re-weight and inspect. ember keeps the model as an ``onnx.ModelProto`` (PyTorch
keeps an ``onnx_ir`` model made by its dynamo exporter; the public methods are the same)."""
import contextlib
import gc
import os
import tempfile
import warnings

import numpy

from .errors import OnnxExporterWarning

__all__ = ["ONNXProgram"]

_LARGE_MODEL_THRESHOLD = 1536 * 1024 * 1024   # PyTorch's: weights above it are saved as external data


def _ort_session(model):
    import onnxruntime
    return onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])


def _initializer_bytes(graph):
    return sum(numpy.prod(t.dims, dtype=numpy.int64) * _itemsize(t.data_type) for t in graph.initializer)


def _names_read(node):
    """The names ``node`` reads, those its subgraphs (If, Loop, Scan) read from the outer graph included."""
    names = set(node.input)
    for attribute in node.attribute:
        subgraphs = ([attribute.g] if attribute.HasField("g") else []) + list(attribute.graphs)
        for subgraph in subgraphs:
            for inner in subgraph.node:
                names |= _names_read(inner)
    return names


def _itemsize(data_type):
    import onnx
    return numpy.dtype(onnx.helper.tensor_dtype_to_np_dtype(data_type)).itemsize


class ONNXProgram:
    """An exported ONNX model: call it with tensors (onnxruntime runs it), ``save`` it, ``optimize`` it in place,
    ``apply_weights`` to replace its initializers, ``compute_values`` of inner tensors."""

    def __init__(self, model, exported_program=None):
        self.model = model   # an onnx.ModelProto
        self.exported_program = exported_program
        self._inference_session = None
        self._tempdir = None

    def __repr__(self):
        import onnx.printer
        text = onnx.printer.to_text(self.model)
        indent = " " * 8
        shown = "\n".join(indent + line for line in text.splitlines())
        return f"ONNXProgram(\n    model=\n{shown}\n    ,\n    exported_program=\n{indent}{self.exported_program}\n)\n"

    @property
    def model_proto(self):
        """The ONNX ``ModelProto``."""
        return self.model

    def _feeds(self, args, kwargs):
        from .._tensor import Tensor
        values = list(args) + list((kwargs or {}).values())
        inputs = [i.name for i in self.model.graph.input]
        return {name: (v.detach().cpu().numpy() if isinstance(v, Tensor) else numpy.asarray(v))
                for name, v in zip(inputs, values)}

    def __call__(self, *args, **kwargs):
        """Runs the model on ``args`` (tensors, in the exported order) with onnxruntime; a tuple of tensors."""
        from ..ops.creation import from_numpy
        if self._inference_session is None:
            self.initialize_inference_session()
        outputs = self._inference_session.run(None, self._feeds(args, kwargs))
        return tuple(from_numpy(numpy.asarray(o)) for o in outputs)

    def call_reference(self, *args, **kwargs):
        """Runs the model with ONNX's reference evaluator (slow, exact to the specification)."""
        import onnx.reference
        from ..ops.creation import from_numpy
        outputs = onnx.reference.ReferenceEvaluator(self.model).run(None, self._feeds(args, kwargs))
        return tuple(from_numpy(numpy.asarray(o)) for o in outputs)

    def compute_values(self, value_names, args=(), kwargs=None):
        """The values of the named tensors inside the model, computed on ``args``."""
        import onnx
        produced = {out for node in self.model.graph.node for out in node.output}
        produced |= {i.name for i in self.model.graph.input} | {t.name for t in self.model.graph.initializer}
        for name in value_names:
            if name not in produced:
                raise ValueError(f"Value '{name}' not found in the model. Please provide a valid value name.")
        self.release()
        kept = list(self.model.graph.output)
        del self.model.graph.output[:]
        self.model.graph.output.extend(onnx.helper.make_empty_tensor_value_info(name) for name in value_names)
        try:
            return self(*args, **(kwargs or {}))
        finally:
            self.release()
            del self.model.graph.output[:]
            self.model.graph.output.extend(kept)

    def optimize(self):
        """Removes, in place, the nodes no output depends on and the initializers no node reads (constants were
        folded at export)."""
        graph = self.model.graph
        needed = {o.name for o in graph.output}
        kept = []
        for node in reversed(graph.node):
            if any(out in needed for out in node.output) or not node.output:
                kept.append(node)
                needed.update(_names_read(node))
        kept.reverse()
        del graph.node[:]
        graph.node.extend(kept)
        initializers = [t for t in graph.initializer if t.name in needed]
        del graph.initializer[:]
        graph.initializer.extend(initializers)
        self.release()

    def save(self, destination, *, include_initializers=True, keep_initializers_as_inputs=False,
             external_data=None):
        """Writes the model to ``destination``; the weights go to a separate file with ``external_data`` (or when
        over 1.5 GiB). ``include_initializers=False`` leaves them out; ``keep_initializers_as_inputs`` lists them as
        inputs too, so they can be overridden at inference."""
        import onnx
        model = onnx.ModelProto()
        model.CopyFrom(self.model)
        if keep_initializers_as_inputs:
            model.graph.input.extend(onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
                                     for t in model.graph.initializer)
        if not include_initializers:
            del model.graph.initializer[:]
        large = _initializer_bytes(model.graph) > _LARGE_MODEL_THRESHOLD
        if external_data or large:
            if not isinstance(destination, (str, os.PathLike)):
                raise TypeError("external_data requires a file path as the destination")
            onnx.save_model(model, destination, save_as_external_data=True, all_tensors_to_one_file=True,
                            size_threshold=0, location=os.path.basename(os.fspath(destination)) + ".data")
        else:
            onnx.save_model(model, destination)

    def apply_weights(self, state_dict):
        """Replaces the initializers named in ``state_dict`` by its tensors (a warning for names not there)."""
        import onnx.numpy_helper
        by_name = {t.name: t for t in self.model.graph.initializer}
        for name, tensor in state_dict.items():
            if name in by_name:
                by_name[name].CopyFrom(onnx.numpy_helper.from_array(tensor.detach().cpu().numpy(), name))
            else:
                warnings.warn(f"Weight '{name}' not found in the model. Skipped applying.",
                              category=OnnxExporterWarning, stacklevel=1)
        self.release()

    def initialize_inference_session(self, initializer=_ort_session):
        """Starts the onnxruntime session ``__call__`` uses (``initializer`` gets the model's bytes, or a path for
        models over 1.5 GiB)."""
        if _initializer_bytes(self.model.graph) > _LARGE_MODEL_THRESHOLD:
            self._tempdir = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)
            path = os.path.join(self._tempdir.name, "model.onnx")
            self.save(path, external_data=True)
            self._inference_session = initializer(path)
        else:
            self._inference_session = initializer(self.model.SerializeToString())

    def release(self):
        """Drops the inference session and its temporary files."""
        self._inference_session = None
        gc.collect()
        if self._tempdir is not None:
            with contextlib.suppress(OSError):
                self._tempdir.cleanup()
            self._tempdir = None
