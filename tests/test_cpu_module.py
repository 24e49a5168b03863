"""``ember.cpu``'s device-agnostic API against ``torch.cpu``."""
import torch

import ember


def test_device_functions_as_torch():
    for lib in (ember, torch):
        assert lib.cpu.is_available() and lib.cpu.is_initialized()
        assert lib.cpu.current_device() == "cpu" and lib.cpu.device_count() == 1
        assert lib.cpu.synchronize() is None and lib.cpu.synchronize("cpu") is None and lib.cpu.set_device(0) is None


def test_streams_and_events():
    for lib in (ember, torch):
        default = lib.cpu.current_stream()
        other = lib.cpu.Stream(priority=0)
        with lib.cpu.stream(other):
            assert lib.cpu.current_stream() is other
            with lib.cpu.stream(None):
                assert lib.cpu.current_stream() is other
        assert lib.cpu.current_stream() is default
        event = lib.cpu.Event()
        assert event.query() and event.record() is None and event.synchronize() is None and event.wait() is None
        assert other.wait_stream(default) is None and other.wait_event(event) is None


def test_get_device_module_reaches_them():
    assert ember.get_device_module("cpu").device_count() == 1
