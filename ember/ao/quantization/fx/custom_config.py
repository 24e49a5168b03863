"""Custom configs of FX graph mode quantization (``torch.ao.quantization.fx.custom_config``): what ``prepare_fx``,
``convert_fx`` and ``fuse_fx`` treat specially (standalone and non-traceable modules, custom module classes,
quantized inputs and outputs, attributes to keep)."""
from dataclasses import dataclass
from typing import Any

__all__ = ["ConvertCustomConfig", "FuseCustomConfig", "PrepareCustomConfig", "StandaloneModuleConfigEntry"]

_STANDALONE_MODULE_NAME_DICT_KEY = "standalone_module_name"
_STANDALONE_MODULE_CLASS_DICT_KEY = "standalone_module_class"
_FLOAT_TO_OBSERVED_DICT_KEY = "float_to_observed_custom_module_class"
_OBSERVED_TO_QUANTIZED_DICT_KEY = "observed_to_quantized_custom_module_class"
_NON_TRACEABLE_MODULE_NAME_DICT_KEY = "non_traceable_module_name"
_NON_TRACEABLE_MODULE_CLASS_DICT_KEY = "non_traceable_module_class"
_INPUT_QUANTIZED_INDEXES_DICT_KEY = "input_quantized_idxs"
_OUTPUT_QUANTIZED_INDEXES_DICT_KEY = "output_quantized_idxs"
_PRESERVED_ATTRIBUTES_DICT_KEY = "preserved_attributes"


@dataclass
class StandaloneModuleConfigEntry:
    """The configs a standalone module is prepared with."""

    qconfig_mapping: Any
    example_inputs: tuple
    prepare_custom_config: Any
    backend_config: Any


def _quant_type_key(quant_type):
    """The quantization type ("static", "dynamic", "weight_only") a mapping is keyed by."""
    from ..quant_type import QuantType, _quant_type_from_str
    return quant_type if isinstance(quant_type, QuantType) else _quant_type_from_str(quant_type)


class PrepareCustomConfig:
    """Custom configuration for ``prepare_fx`` and ``prepare_qat_fx``; setters return the config, so calls
    chain."""

    def __init__(self):
        self.standalone_module_names = {}
        self.standalone_module_classes = {}
        self.float_to_observed_mapping = {}
        self.non_traceable_module_names = []
        self.non_traceable_module_classes = []
        self.input_quantized_indexes = []
        self.output_quantized_indexes = []
        self.preserved_attributes = []

    def __repr__(self):
        fields = {k: v for k, v in vars(self).items() if v}
        return f"PrepareCustomConfig({fields})"

    def set_standalone_module_name(self, module_name, qconfig_mapping, example_inputs, prepare_custom_config,
                                   backend_config):
        """Prepares the module of that name as a standalone module (on its own, with these configs)."""
        self.standalone_module_names[module_name] = StandaloneModuleConfigEntry(
            qconfig_mapping, example_inputs, prepare_custom_config, backend_config)
        return self

    def set_standalone_module_class(self, module_class, qconfig_mapping, example_inputs, prepare_custom_config,
                                    backend_config):
        """Prepares the modules of that class as standalone modules."""
        self.standalone_module_classes[module_class] = StandaloneModuleConfigEntry(
            qconfig_mapping, example_inputs, prepare_custom_config, backend_config)
        return self

    def set_float_to_observed_mapping(self, float_class, observed_class, quant_type=None):
        """Swaps modules of ``float_class`` for ``observed_class.from_float(module)`` (static quantization)."""
        from ..quant_type import QuantType
        key = QuantType.STATIC if quant_type is None else _quant_type_key(quant_type)
        if key != QuantType.STATIC:
            raise ValueError("set_float_to_observed_mapping is currently only supported for static quantization")
        self.float_to_observed_mapping.setdefault(key, {})[float_class] = observed_class
        return self

    def set_non_traceable_module_names(self, module_names):
        """Keeps the modules of these names as leaves of the trace (not quantized)."""
        self.non_traceable_module_names = list(module_names)
        return self

    def set_non_traceable_module_classes(self, module_classes):
        """Keeps the modules of these classes as leaves of the trace (not quantized)."""
        self.non_traceable_module_classes = list(module_classes)
        return self

    def set_input_quantized_indexes(self, indexes):
        """The graph inputs that arrive quantized."""
        self.input_quantized_indexes = list(indexes)
        return self

    def set_output_quantized_indexes(self, indexes):
        """The graph outputs left quantized."""
        self.output_quantized_indexes = list(indexes)
        return self

    def set_preserved_attributes(self, attributes):
        """Attributes copied onto the prepared model although ``forward`` does not use them."""
        self.preserved_attributes = list(attributes)
        return self

    @classmethod
    def from_dict(cls, prepare_custom_config_dict):
        """A config from the old ``prepare_custom_config_dict``."""
        conf = cls()
        for name, qconfig, example_inputs, custom, backend in prepare_custom_config_dict.get(
                _STANDALONE_MODULE_NAME_DICT_KEY, []):
            conf.set_standalone_module_name(name, qconfig, example_inputs, custom, backend)
        for klass, qconfig, example_inputs, custom, backend in prepare_custom_config_dict.get(
                _STANDALONE_MODULE_CLASS_DICT_KEY, []):
            conf.set_standalone_module_class(klass, qconfig, example_inputs, custom, backend)
        for quant_type_name, mapping in prepare_custom_config_dict.get(_FLOAT_TO_OBSERVED_DICT_KEY, {}).items():
            for float_class, observed_class in mapping.items():
                conf.set_float_to_observed_mapping(float_class, observed_class, quant_type_name)
        conf.set_non_traceable_module_names(prepare_custom_config_dict.get(_NON_TRACEABLE_MODULE_NAME_DICT_KEY, []))
        conf.set_non_traceable_module_classes(prepare_custom_config_dict.get(_NON_TRACEABLE_MODULE_CLASS_DICT_KEY,
                                                                             []))
        conf.set_input_quantized_indexes(prepare_custom_config_dict.get(_INPUT_QUANTIZED_INDEXES_DICT_KEY, []))
        conf.set_output_quantized_indexes(prepare_custom_config_dict.get(_OUTPUT_QUANTIZED_INDEXES_DICT_KEY, []))
        conf.set_preserved_attributes(prepare_custom_config_dict.get(_PRESERVED_ATTRIBUTES_DICT_KEY, []))
        return conf

    def to_dict(self):
        """The config as the old ``prepare_custom_config_dict``."""
        from ..quant_type import _get_quant_type_to_str
        out = {}
        if self.standalone_module_names:
            out[_STANDALONE_MODULE_NAME_DICT_KEY] = [(k, *vars(v).values()) for k, v in
                                                     self.standalone_module_names.items()]
        if self.standalone_module_classes:
            out[_STANDALONE_MODULE_CLASS_DICT_KEY] = [(k, *vars(v).values()) for k, v in
                                                      self.standalone_module_classes.items()]
        if self.float_to_observed_mapping:
            out[_FLOAT_TO_OBSERVED_DICT_KEY] = {_get_quant_type_to_str()[k]: v for k, v in
                                                self.float_to_observed_mapping.items()}
        for key, value in ((_NON_TRACEABLE_MODULE_NAME_DICT_KEY, self.non_traceable_module_names),
                           (_NON_TRACEABLE_MODULE_CLASS_DICT_KEY, self.non_traceable_module_classes),
                           (_INPUT_QUANTIZED_INDEXES_DICT_KEY, self.input_quantized_indexes),
                           (_OUTPUT_QUANTIZED_INDEXES_DICT_KEY, self.output_quantized_indexes),
                           (_PRESERVED_ATTRIBUTES_DICT_KEY, self.preserved_attributes)):
            if value:
                out[key] = value
        return out


class ConvertCustomConfig:
    """Custom configuration for ``convert_fx``: observed custom module classes and their quantized classes, and
    attributes to keep."""

    def __init__(self):
        self.observed_to_quantized_mapping = {}
        self.preserved_attributes = []

    def __repr__(self):
        fields = {k: v for k, v in vars(self).items() if v}
        return f"ConvertCustomConfig({fields})"

    def set_observed_to_quantized_mapping(self, observed_class, quantized_class, quant_type=None):
        """Swaps observed custom modules of ``observed_class`` for ``quantized_class.from_observed(module)``."""
        from ..quant_type import QuantType
        key = QuantType.STATIC if quant_type is None else _quant_type_key(quant_type)
        self.observed_to_quantized_mapping.setdefault(key, {})[observed_class] = quantized_class
        return self

    def set_preserved_attributes(self, attributes):
        """Attributes copied onto the converted model although ``forward`` does not use them."""
        self.preserved_attributes = list(attributes)
        return self

    @classmethod
    def from_dict(cls, convert_custom_config_dict):
        """A config from the old ``convert_custom_config_dict``."""
        conf = cls()
        for quant_type_name, mapping in convert_custom_config_dict.get(_OBSERVED_TO_QUANTIZED_DICT_KEY, {}).items():
            for observed_class, quantized_class in mapping.items():
                conf.set_observed_to_quantized_mapping(observed_class, quantized_class, quant_type_name)
        conf.set_preserved_attributes(convert_custom_config_dict.get(_PRESERVED_ATTRIBUTES_DICT_KEY, []))
        return conf

    def to_dict(self):
        """The config as the old ``convert_custom_config_dict``."""
        from ..quant_type import _get_quant_type_to_str
        out = {}
        if self.observed_to_quantized_mapping:
            out[_OBSERVED_TO_QUANTIZED_DICT_KEY] = {_get_quant_type_to_str()[k]: v for k, v in
                                                    self.observed_to_quantized_mapping.items()}
        if self.preserved_attributes:
            out[_PRESERVED_ATTRIBUTES_DICT_KEY] = self.preserved_attributes
        return out


class FuseCustomConfig:
    """Custom configuration for ``fuse_fx``: attributes to keep."""

    def __init__(self):
        self.preserved_attributes = []

    def __repr__(self):
        fields = {k: v for k, v in vars(self).items() if v}
        return f"FuseCustomConfig({fields})"

    def set_preserved_attributes(self, attributes):
        """Attributes copied onto the fused model although ``forward`` does not use them."""
        self.preserved_attributes = list(attributes)
        return self

    @classmethod
    def from_dict(cls, fuse_custom_config_dict):
        """A config from the old ``fuse_custom_config_dict``."""
        return cls().set_preserved_attributes(fuse_custom_config_dict.get(_PRESERVED_ATTRIBUTES_DICT_KEY, []))

    def to_dict(self):
        """The config as the old ``fuse_custom_config_dict``."""
        return {_PRESERVED_ATTRIBUTES_DICT_KEY: self.preserved_attributes} if self.preserved_attributes else {}
