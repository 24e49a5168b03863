"""``torch.ao.nn.intrinsic.quantized.dynamic``: ember has no dynamically quantized fused modules yet."""
__all__ = []
