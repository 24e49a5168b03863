"""The flash-attention implementation registry of ``nn.attention``, as PyTorch's: providers register a named
activation callable; users activate one. FA3 and FA4 are registered, as in PyTorch; activating them imports their
package (``flash_attn_interface``, ``flash_attn.cute.interface``), as PyTorch does, and then fails: they are kernels for
PyTorch's dispatcher, which ember's attention does not call."""
import importlib
import logging

logger = logging.getLogger(__name__)

_FLASH_ATTENTION_IMPLS = {}
_FLASH_ATTENTION_ACTIVE = None   # (name, the handle its activation returned)


def register_flash_attention_impl(impl, *, register_fn):
    """Registers ``register_fn``, the callable that activates the implementation named ``impl``."""
    _FLASH_ATTENTION_IMPLS[impl] = register_fn


def activate_flash_attention_impl(impl):
    """Activates the registered implementation ``impl`` (restoring any active one first); keeps the handle its
    callable returns."""
    global _FLASH_ATTENTION_ACTIVE
    restore_flash_attention_impl(_raise_warn=False)
    register_fn = _FLASH_ATTENTION_IMPLS.get(impl)
    if register_fn is None:
        raise ValueError(f"Unknown flash attention impl '{impl}'. "
                         f"Available implementations: {list_flash_attention_impls()}")
    handle = register_fn()
    if handle is not None:
        _FLASH_ATTENTION_ACTIVE = (impl, handle)


def list_flash_attention_impls():
    """The names of the registered implementations, sorted."""
    return sorted(_FLASH_ATTENTION_IMPLS)


def current_flash_attention_impl():
    """The name of the activated implementation, or None for the default."""
    return None if _FLASH_ATTENTION_ACTIVE is None else _FLASH_ATTENTION_ACTIVE[0]


def restore_flash_attention_impl(_raise_warn=True):
    """Back to the default implementation, removing the active one's handle."""
    global _FLASH_ATTENTION_ACTIVE
    if _FLASH_ATTENTION_ACTIVE is not None:
        _FLASH_ATTENTION_ACTIVE[1].remove()
    elif _raise_warn:
        logger.warning("Trying to restore default FA2 impl when no custom impl was activated")
    _FLASH_ATTENTION_ACTIVE = None


def _external(name, module_path):
    def register_fn(module_path=module_path):
        importlib.import_module(module_path)
        raise RuntimeError(f"{name} is a flash-attention kernel for PyTorch's dispatcher; ember's "
                           "scaled_dot_product_attention cannot use it")
    return register_fn


register_flash_attention_impl("FA3", register_fn=_external("FA3", "flash_attn_interface"))
register_flash_attention_impl("FA4", register_fn=_external("FA4", "flash_attn.cute.interface"))
