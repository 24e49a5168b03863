"""``FloatFunctional`` (float ops with an observer on their result, for quantization), ``FXFloatFunctional`` and
``QFunctional`` (what ``convert`` makes of a FloatFunctional: the quantized ops with the observed qparams)."""
import ember
from ember import nn

from .... import _qops

__all__ = ["FloatFunctional", "FXFloatFunctional", "QFunctional"]


class FloatFunctional(nn.Module):
    """Float ``add``, ``cat``, ``mul``, ``add_relu``, ``add_scalar``, ``mul_scalar``, ``matmul`` whose results pass
    through ``activation_post_process`` (an Identity until ``prepare`` puts an observer there)."""

    def __init__(self):
        super().__init__()
        self.activation_post_process = nn.Identity()

    def forward(self, x):
        raise RuntimeError("FloatFunctional is not intended to use the 'forward'. Please use the underlying operation")

    def add(self, x, y):
        """``x + y``, observed."""
        return self.activation_post_process(ember.add(x, y))

    def add_scalar(self, x, y):
        """``x + y`` for a float ``y`` (not observed: the quantized op keeps the integers)."""
        return ember.add(x, y)

    def mul(self, x, y):
        """``x * y``, observed."""
        return self.activation_post_process(ember.mul(x, y))

    def mul_scalar(self, x, y):
        """``x * y`` for a float ``y`` (not observed)."""
        return ember.mul(x, y)

    def cat(self, x, dim=0):
        """``cat(x, dim)``, observed."""
        return self.activation_post_process(ember.cat(x, dim=dim))

    def add_relu(self, x, y):
        """``relu(x + y)``, observed."""
        return self.activation_post_process(ember.nn.functional.relu(ember.add(x, y)))

    def matmul(self, x, y):
        """``x @ y``, observed."""
        return self.activation_post_process(ember.matmul(x, y))


class FXFloatFunctional(nn.Module):
    """FloatFunctional without observers (FX graph mode inserts its own)."""

    def forward(self, x):
        raise RuntimeError("FloatFunctional is not intended to use the 'forward'. Please use the underlying operation")

    def add(self, x, y):
        return ember.add(x, y)

    def add_scalar(self, x, y):
        return ember.add(x, y)

    def mul(self, x, y):
        return ember.mul(x, y)

    def mul_scalar(self, x, y):
        return ember.mul(x, y)

    def cat(self, x, dim=0):
        return ember.cat(x, dim=dim)

    def add_relu(self, x, y):
        return ember.nn.functional.relu(ember.add(x, y))

    def matmul(self, x, y):
        return ember.matmul(x, y)


class QFunctional(nn.Module):
    """The quantized ops (``quantized::add``, ``mul``, ``cat``, ``add_relu``, ``add_scalar``, ``mul_scalar``) with
    the output qparams ``scale``/``zero_point``."""

    def __init__(self):
        super().__init__()
        self.scale = 1.0
        self.zero_point = 0
        self.activation_post_process = nn.Identity()

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "scale"] = ember.tensor(self.scale)
        destination[prefix + "zero_point"] = ember.tensor(self.zero_point)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        self.scale = float(state_dict.pop(prefix + "scale"))
        self.zero_point = int(state_dict.pop(prefix + "zero_point"))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys,
                                      error_msgs)

    def _get_name(self):
        return "QFunctional"

    def extra_repr(self):
        return f"scale={self.scale}, zero_point={self.zero_point}"

    def forward(self, x):
        raise RuntimeError("Functional is not intended to use the 'forward'. Please use the underlying operation")

    def add(self, x, y):
        """``quantized::add``."""
        return self.activation_post_process(_qops.add(x, y, self.scale, self.zero_point))

    def add_scalar(self, x, y):
        """``quantized::add_scalar``."""
        return _qops.add_scalar(x, y)

    def mul(self, x, y):
        """``quantized::mul``."""
        return self.activation_post_process(_qops.mul(x, y, self.scale, self.zero_point))

    def mul_scalar(self, x, y):
        """``quantized::mul_scalar``."""
        return _qops.mul_scalar(x, y)

    def cat(self, x, dim=0):
        """``quantized::cat``."""
        return self.activation_post_process(_qops.cat(x, dim, self.scale, self.zero_point))

    def add_relu(self, x, y):
        """``quantized::add_relu``."""
        return self.activation_post_process(_qops.add(x, y, self.scale, self.zero_point, relu=True))

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """A QFunctional with the qparams ``mod``'s observer computed."""
        if type(mod) is not FloatFunctional:
            raise AssertionError("QFunctional.from_float expects an instance of FloatFunctional")
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        new_mod = QFunctional()
        new_mod.scale = float(scale)
        new_mod.zero_point = int(zero_point)
        return new_mod
