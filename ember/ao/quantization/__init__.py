"""``ember.ao.quantization`` (``torch.ao.quantization``, also ``torch.quantization``): observers, fake quantization,
qconfigs, stubs, module fusion, eager-mode static quantization (``prepare``/``convert``/``quantize``),
quantization-aware training (``prepare_qat``/``quantize_qat``) and dynamic quantization (``quantize_dynamic``)."""
from ..._dtype import (per_channel_affine, per_channel_affine_float_qparams, per_channel_symmetric,  # noqa: F401
                       per_tensor_affine, per_tensor_symmetric)
from .fake_quantize import default_embedding_fake_quant, default_embedding_fake_quant_4bit  # noqa: F401
from .fake_quantize import (FakeQuantize, FakeQuantizeBase, FixedQParamsFakeQuantize,  # noqa: F401
                            FusedMovingAvgObsFakeQuantize, default_dynamic_fake_quant,
                            default_fixed_qparams_range_0to1_fake_quant, default_fixed_qparams_range_neg1to1_fake_quant,
                            default_fake_quant, default_fused_act_fake_quant, default_fused_per_channel_wt_fake_quant,
                            default_fused_wt_fake_quant, default_per_channel_weight_fake_quant,
                            default_weight_fake_quant, disable_fake_quant, disable_observer, enable_fake_quant,
                            enable_observer, fused_per_channel_wt_fake_quant_range_neg_127_to_127,
                            fused_wt_fake_quant_range_neg_127_to_127)
from .histogram_observer import HistogramObserver
from .observer import (FixedQParamsObserver, MinMaxObserver, MovingAverageMinMaxObserver,  # noqa: F401
                       MovingAveragePerChannelMinMaxObserver, default_fixed_qparams_range_0to1_observer,
                       default_fixed_qparams_range_neg1to1_observer,
                       NoopObserver, ObserverBase, PerChannelMinMaxObserver, PlaceholderObserver,
                       UniformQuantizationObserverBase, default_dynamic_quant_observer, default_float_qparams_observer,
                       default_observer, default_per_channel_weight_observer, default_placeholder_observer,
                       default_weight_observer)
from .qconfig import default_embedding_qat_qconfig, default_embedding_qat_qconfig_4bit  # noqa: F401
from .qconfig import (QConfig, QConfigDynamic, default_activation_only_qconfig, default_dynamic_qat_qconfig,
                      default_dynamic_qconfig, default_per_channel_qconfig, default_qat_qconfig, default_qconfig,
                      default_weight_only_qconfig, float16_dynamic_qconfig, float16_static_qconfig,
                      float_qparams_weight_only_qconfig, get_default_qat_qconfig, get_default_qconfig,
                      per_channel_dynamic_qconfig)
from .fuse_modules import fuse_known_modules, fuse_modules, fuse_modules_qat
from .fuser_method_mappings import (fuse_conv_bn, fuse_conv_bn_relu, fuse_convtranspose_bn, fuse_linear_bn,
                                    get_fuser_method)
from .quantization_mappings import (get_default_dynamic_quant_module_mappings, get_default_qat_module_mappings,
                                    get_default_qconfig_propagation_list, get_default_static_quant_module_mappings,
                                    get_dynamic_quant_module_class, get_quantized_operator,
                                    get_static_quant_module_class, no_observer_set)
from .quantize import (add_quant_dequant, convert, get_default_custom_config_dict, prepare, prepare_qat,
                       propagate_qconfig_, quantize, quantize_dynamic, quantize_qat, swap_module)
from .stubs import DeQuantStub, QuantStub, QuantWrapper
from .qconfig_mapping import QConfigMapping, get_default_qat_qconfig_mapping, get_default_qconfig_mapping
import ember.nn.quantized  # noqa: E402,F401  (torch.nn.quantized: reachable as an attribute, as in torch)

__all__ = ["FakeQuantize", "FakeQuantizeBase", "FixedQParamsFakeQuantize", "FixedQParamsObserver",
           "default_fixed_qparams_range_0to1_fake_quant", "default_fixed_qparams_range_neg1to1_fake_quant",
           "default_fixed_qparams_range_0to1_observer", "default_fixed_qparams_range_neg1to1_observer",
           "FusedMovingAvgObsFakeQuantize", "default_fused_act_fake_quant",
           "default_fused_wt_fake_quant", "default_fused_per_channel_wt_fake_quant",
           "fused_wt_fake_quant_range_neg_127_to_127", "fused_per_channel_wt_fake_quant_range_neg_127_to_127",
           "HistogramObserver", "MinMaxObserver", "MovingAverageMinMaxObserver",
           "MovingAveragePerChannelMinMaxObserver", "NoopObserver", "ObserverBase", "PerChannelMinMaxObserver",
           "PlaceholderObserver", "UniformQuantizationObserverBase", "QConfig", "QConfigDynamic", "QuantStub",
           "DeQuantStub", "QuantWrapper", "convert", "propagate_qconfig_", "quantize_dynamic", "swap_module",
           "default_fake_quant", "default_weight_fake_quant", "default_dynamic_fake_quant",
           "default_per_channel_weight_fake_quant", "disable_fake_quant", "disable_observer", "enable_fake_quant",
           "enable_observer", "default_observer", "default_weight_observer", "default_per_channel_weight_observer",
           "default_dynamic_quant_observer", "default_float_qparams_observer", "default_placeholder_observer",
           "default_qconfig", "default_per_channel_qconfig", "default_dynamic_qconfig", "default_qat_qconfig",
           "default_dynamic_qat_qconfig", "default_weight_only_qconfig", "default_activation_only_qconfig",
           "float16_dynamic_qconfig", "float16_static_qconfig", "float_qparams_weight_only_qconfig",
           "per_channel_dynamic_qconfig", "get_default_qconfig", "get_default_qat_qconfig",
           "get_default_dynamic_quant_module_mappings", "get_default_static_quant_module_mappings",
           "get_default_qconfig_propagation_list", "get_dynamic_quant_module_class", "fuse_modules", "fuse_modules_qat",
           "fuse_known_modules", "fuse_conv_bn", "fuse_conv_bn_relu", "fuse_convtranspose_bn", "fuse_linear_bn",
           "get_fuser_method", "get_default_qat_module_mappings", "get_quantized_operator",
           "get_static_quant_module_class", "no_observer_set", "add_quant_dequant", "get_default_custom_config_dict",
           "prepare", "prepare_qat", "quantize", "quantize_qat", "QConfigMapping", "get_default_qconfig_mapping",
           "get_default_qat_qconfig_mapping", "default_embedding_qat_qconfig", "default_embedding_qat_qconfig_4bit",
           "default_embedding_fake_quant", "default_embedding_fake_quant_4bit"]
