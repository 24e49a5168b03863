"""``ember.quantization.quant_type``: ``ember.ao.quantization.quant_type`` under its older name."""
from ember.ao.quantization.quant_type import QuantType, _get_quant_type_to_str  # noqa: F401
