"""The quantized-tensor methods on plain tensors, before anything loads ember.ao (a fresh process): dequantize is
a float32 tensor, the others raise PyTorch's error."""
import subprocess
import sys

PROGRAM = """
import sys
import ember
assert "ember.ao" not in sys.modules
x = ember.ones(2)
assert x.dequantize() is x and ember.ones(2, dtype=ember.int64).dequantize().dtype is ember.float32
try:
    x.int_repr()
except NotImplementedError as error:
    assert "Could not run 'aten::int_repr'" in str(error)
else:
    raise AssertionError("int_repr of a float tensor did not raise")
print("ok")
"""


def test_methods_exist_before_ao_loads():
    result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr
