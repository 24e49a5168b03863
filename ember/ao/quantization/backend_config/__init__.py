"""``ember.ao.quantization.backend_config`` (``torch.ao.quantization.backend_config``): what a backend can quantize,
read by FX graph mode quantization."""
from .backend_config import (BackendConfig, BackendPatternConfig, DTypeConfig, DTypeWithConstraints,  # noqa: F401
                             ObservationType)
from .native import (get_fbgemm_backend_config, get_native_backend_config, get_native_backend_config_dict,  # noqa: F401
                     get_onednn_backend_config, get_qnnpack_backend_config, get_test_only_legacy_native_backend_config,
                     get_x86_backend_config)

__all__ = ["get_fbgemm_backend_config", "get_native_backend_config", "get_native_backend_config_dict",
           "get_qnnpack_backend_config", "get_onednn_backend_config", "get_x86_backend_config",
           "get_test_only_legacy_native_backend_config", "BackendConfig", "BackendPatternConfig", "DTypeConfig",
           "DTypeWithConstraints", "ObservationType"]
