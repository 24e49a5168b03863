"""``BackendConfig`` (``torch.ao.quantization.backend_config``): what a backend can run quantized, as one
``BackendPatternConfig`` per op or op sequence (observation type, supported dtypes, the fused, QAT and reference
modules, the fuser method)."""
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = ["BackendConfig", "BackendPatternConfig", "DTypeConfig", "DTypeWithConstraints", "ObservationType"]


class ObservationType(Enum):
    """How an op's output is observed: by its own observer, by its input's (ops that keep their input's qparams:
    pooling, reshapes), or not at all."""

    OUTPUT_USE_DIFFERENT_OBSERVER_AS_INPUT = 0
    OUTPUT_SHARE_OBSERVER_WITH_INPUT = 1
    INPUT_OUTPUT_NOT_OBSERVED = 2


@dataclass
class DTypeWithConstraints:
    """A dtype with the constraints a backend puts on its qparams (range, scale bounds, fixed qparams)."""

    dtype: Any = None
    quant_min_lower_bound: Any = None
    quant_max_upper_bound: Any = None
    scale_min_lower_bound: Any = None
    scale_max_upper_bound: Any = None
    scale_exact_match: Any = None
    zero_point_exact_match: Any = None


def _with_constraints(value):
    return value if isinstance(value, DTypeWithConstraints) else DTypeWithConstraints(dtype=value)


class DTypeConfig:
    """The dtypes of a pattern's input, output, weight and bias a backend supports (and whether dynamically)."""

    def __init__(self, input_dtype=None, output_dtype=None, weight_dtype=None, bias_dtype=None, is_dynamic=None):
        self.input_dtype_with_constraints = _with_constraints(input_dtype)
        self.output_dtype_with_constraints = _with_constraints(output_dtype)
        self.weight_dtype_with_constraints = _with_constraints(weight_dtype)
        self.bias_dtype = bias_dtype
        self.is_dynamic = is_dynamic

    @property
    def input_dtype(self):
        return self.input_dtype_with_constraints.dtype

    @property
    def output_dtype(self):
        return self.output_dtype_with_constraints.dtype

    @property
    def weight_dtype(self):
        return self.weight_dtype_with_constraints.dtype

    def to_dict(self):
        """The config as a dict of its set fields."""
        out = {}
        for key, value in (("input_dtype", self.input_dtype_with_constraints),
                           ("output_dtype", self.output_dtype_with_constraints),
                           ("weight_dtype", self.weight_dtype_with_constraints)):
            if value.dtype is not None:
                out[key] = value
        if self.bias_dtype is not None:
            out["bias_dtype"] = self.bias_dtype
        if self.is_dynamic is not None:
            out["is_dynamic"] = self.is_dynamic
        return out

    @classmethod
    def from_dict(cls, dtype_config_dict):
        """A config from ``to_dict``'s form."""
        return cls(dtype_config_dict.get("input_dtype"), dtype_config_dict.get("output_dtype"),
                   dtype_config_dict.get("weight_dtype"), dtype_config_dict.get("bias_dtype"),
                   dtype_config_dict.get("is_dynamic"))

    def __repr__(self):
        return (f"DTypeConfig(input_dtype_with_constraints={self.input_dtype_with_constraints}, "
                f"output_dtype_with_constraints={self.output_dtype_with_constraints}, "
                f"weight_dtype_with_constraints={self.weight_dtype_with_constraints}, "
                f"bias_dtype={self.bias_dtype}, is_dynamic={self.is_dynamic})")


class BackendPatternConfig:
    """How a backend quantizes one pattern: an op (module class, function, method name) or a tuple of ops in
    forward order (``(nn.Conv2d, nn.BatchNorm2d, nn.ReLU)``). Setters return the config, so calls chain."""

    def __init__(self, pattern=None):
        self.pattern = pattern
        self.observation_type = ObservationType.OUTPUT_USE_DIFFERENT_OBSERVER_AS_INPUT
        self.dtype_configs = []
        self.root_module = None
        self.qat_module = None
        self.reference_quantized_module = None
        self.fused_module = None
        self.fuser_method = None
        self._root_node_getter = None
        self._extra_inputs_getter = None
        self._num_tensor_args_to_observation_type = {}
        self._input_type_to_index = {}
        self._pattern_complex_format = None

    def __repr__(self):
        fields = {k: v for k, v in vars(self).items() if v not in (None, [], {})}
        return f"BackendPatternConfig({fields})"

    def set_pattern(self, pattern):
        """Sets the pattern (an op, or ops in forward order)."""
        self.pattern = pattern
        return self

    def set_observation_type(self, observation_type):
        """Sets how the pattern's output is observed."""
        self.observation_type = observation_type
        return self

    def add_dtype_config(self, dtype_config):
        """Adds a supported dtype configuration."""
        self.dtype_configs.append(dtype_config)
        return self

    def set_dtype_configs(self, dtype_configs):
        """Sets the supported dtype configurations."""
        self.dtype_configs = list(dtype_configs)
        return self

    def set_root_module(self, root_module):
        """Sets the float module the pattern's quantized form is built around (``nn.Conv2d`` for ConvReLU2d)."""
        self.root_module = root_module
        return self

    def set_qat_module(self, qat_module):
        """Sets the module QAT swaps the pattern's module for."""
        self.qat_module = qat_module
        return self

    def set_reference_quantized_module(self, reference_quantized_module):
        """Sets the reference quantized module of the root module."""
        self.reference_quantized_module = reference_quantized_module
        return self

    def set_fused_module(self, fused_module):
        """Sets the fused module the pattern becomes."""
        self.fused_module = fused_module
        return self

    def set_fuser_method(self, fuser_method):
        """Sets the function that fuses the pattern's modules (``fn(is_qat, *modules)``)."""
        self.fuser_method = fuser_method
        return self

    def _set_root_node_getter(self, root_node_getter):
        self._root_node_getter = root_node_getter
        return self

    def _set_extra_inputs_getter(self, extra_inputs_getter):
        self._extra_inputs_getter = extra_inputs_getter
        return self

    def _set_num_tensor_args_to_observation_type(self, num_tensor_args_to_observation_type):
        self._num_tensor_args_to_observation_type = num_tensor_args_to_observation_type
        return self

    def _set_input_type_to_index(self, input_type_to_index):
        self._input_type_to_index = input_type_to_index
        return self

    def _set_pattern_complex_format(self, pattern):
        self._pattern_complex_format = pattern
        return self

    def to_dict(self):
        """The config as a dict of its set fields."""
        out = {"observation_type": self.observation_type, "dtype_configs": [c.to_dict() for c in self.dtype_configs]}
        if self.pattern is not None:
            out["pattern"] = self.pattern
        for key in ("root_module", "qat_module", "reference_quantized_module", "fused_module", "fuser_method"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_dict(cls, backend_pattern_config_dict):
        """A config from ``to_dict``'s form."""
        conf = cls(backend_pattern_config_dict.get("pattern"))
        if "observation_type" in backend_pattern_config_dict:
            conf.set_observation_type(backend_pattern_config_dict["observation_type"])
        for d in backend_pattern_config_dict.get("dtype_configs", []):
            conf.add_dtype_config(d if isinstance(d, DTypeConfig) else DTypeConfig.from_dict(d))
        for key in ("root_module", "qat_module", "reference_quantized_module", "fused_module", "fuser_method"):
            if key in backend_pattern_config_dict:
                setattr(conf, key, backend_pattern_config_dict[key])
        return conf


class BackendConfig:
    """A backend's quantization support: its name and one ``BackendPatternConfig`` per pattern (a later config
    for the same pattern replaces the earlier)."""

    def __init__(self, name=""):
        self.name = name
        self._pattern_complex_format_to_config = {}
        self._configs = {}

    def __repr__(self):
        return f"BackendConfig({self.__dict__})"

    def set_name(self, name):
        """Sets the backend's name."""
        self.name = name
        return self

    def set_backend_pattern_config(self, config):
        """Adds (or replaces) the config of one pattern."""
        self._configs[config.pattern] = config
        if not isinstance(config.pattern, tuple):
            self._pattern_complex_format_to_config[config.pattern] = config
        return self

    def set_backend_pattern_configs(self, configs):
        """Adds (or replaces) the configs of several patterns."""
        for conf in configs:
            self.set_backend_pattern_config(conf)
        return self

    @property
    def configs(self):
        """The pattern configs, as a list."""
        return list(self._configs.values())

    def to_dict(self):
        """The backend config as a dict."""
        return {"name": self.name, "configs": [c.to_dict() for c in self.configs]}

    @classmethod
    def from_dict(cls, backend_config_dict):
        """A backend config from ``to_dict``'s form."""
        conf = cls(backend_config_dict.get("name", ""))
        for d in backend_config_dict.get("configs", []):
            conf.set_backend_pattern_config(d if isinstance(d, BackendPatternConfig)
                                            else BackendPatternConfig.from_dict(d))
        return conf
