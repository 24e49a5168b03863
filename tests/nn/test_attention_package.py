"""ember.nn.attention beside torch.nn.attention: its public names, SDPAParams and the fused-kernel checks (which
answer as PyTorch's CPU build), WARN_FOR_UNFUSED_KERNELS, and the flash-attention implementation registry."""
import logging

import numpy
import pytest
import torch
import torch.nn.attention as torch_attention

import ember
import ember.nn.attention as attention
from ember.nn.attention import _registry


def test_public_names_match_torch():
    assert set(attention.__all__) == set(torch_attention.__all__)
    for name in ("SDPAParams", "can_use_flash_attention", "can_use_efficient_attention"):
        assert callable(getattr(attention, name))
    assert attention.WARN_FOR_UNFUSED_KERNELS is torch_attention.WARN_FOR_UNFUSED_KERNELS is False
    assert attention._get_flash_version() == torch_attention._get_flash_version()


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("mask", [False, True])
def test_fused_kernel_checks_answer_as_torch_cpu(dtype, mask):
    q = numpy.random.default_rng(0).standard_normal((2, 3, 4, 8)).astype(dtype)
    answers = []
    for lib, module in ((torch, torch_attention), (ember, attention)):
        t = lib.from_numpy(q)
        m = lib.ones(4, 4, dtype=lib.bool) if mask else None
        params = module.SDPAParams(t, t, t, m, 0.0, False, True)
        assert params.query is t and params.attn_mask is m and params.dropout == 0.0
        assert params.is_causal is False and params.enable_gqa is True
        answers.append((module.can_use_flash_attention(params), module.can_use_efficient_attention(params),
                        module.can_use_flash_attention(params, True)))
    assert answers[0] == answers[1] == (False, False, False)


def test_sdpa_params_needs_every_argument():
    q = ember.zeros(1, 1, 2, 2)
    with pytest.raises(TypeError):
        attention.SDPAParams(q, q, q)


def test_registry_lists_and_refuses_as_torch():
    assert attention.list_flash_attention_impls() == torch_attention.list_flash_attention_impls()
    assert attention.current_flash_attention_impl() is None
    for impl in ("X", "FA3", "FA4"):
        errors = []
        for module in (torch_attention, attention):
            with pytest.raises(Exception) as info:
                module.activate_flash_attention_impl(impl)
            errors.append((type(info.value), str(info.value)))
        assert errors[0] == errors[1]
    assert attention.current_flash_attention_impl() is None


def test_registry_activates_restores_and_warns():
    removed, logged = [], []

    class Handle:
        def remove(self):
            removed.append(True)

    attention.register_flash_attention_impl("Mine", register_fn=Handle)
    try:
        assert "Mine" in attention.list_flash_attention_impls()
        attention.activate_flash_attention_impl("Mine")
        assert attention.current_flash_attention_impl() == "Mine"
        attention.activate_flash_attention_impl("Mine")   # the active one is removed first
        assert removed == [True]
        attention.restore_flash_attention_impl()
        assert removed == [True, True] and attention.current_flash_attention_impl() is None
        handler = logging.Handler(logging.WARNING)
        handler.emit = lambda record: logged.append(record.getMessage())
        _registry.logger.addHandler(handler)
        try:
            attention.restore_flash_attention_impl()
        finally:
            _registry.logger.removeHandler(handler)
        assert logged == ["Trying to restore default FA2 impl when no custom impl was activated"]
    finally:
        del _registry._FLASH_ATTENTION_IMPLS["Mine"]
