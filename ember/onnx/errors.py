"""The exporter's exceptions, under PyTorch's names."""


class OnnxExporterError(RuntimeError):
    """Raised when a model cannot be exported to ONNX."""


class UnsupportedOperatorError(OnnxExporterError):
    """Raised for an op that has no ONNX converter; the message names the op and the module that used it."""


class OnnxExporterWarning(UserWarning):
    """Warnings in the ONNX exporter."""
