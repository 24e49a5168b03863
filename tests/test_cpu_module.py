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


def test_generic_stream_and_event_as_torch():
    """``torch.Stream``/``torch.Event`` without an accelerator are the CPU backend's: one stream, no events."""
    import pytest
    answers = {}
    for lib in (ember, torch):
        stream, event, timed = lib.Stream(), lib.Event(), lib.Event("cpu", enable_timing=True)
        with stream as entered:
            assert entered is stream
        assert stream == lib.Stream("cpu") and hash(stream) == hash(lib.Stream(lib.device("cpu"), priority=-1))
        answers[lib] = [repr(stream), repr(event), repr(timed), stream.device, stream.device_index, stream.stream_id,
                        stream.query(), stream.synchronize(), stream.is_capturing(), stream.wait_event(event),
                        event.query(), event.synchronize(), event.wait(stream), event.event_id]
        for call in (event.record, stream.record_event, lambda: stream.wait_stream(lib.Stream())):
            with pytest.raises(RuntimeError, match="cpu backend doesn't support events."):
                call()
        with pytest.raises(ValueError, match="Both events must be created with argument 'enable_timing=True'."):
            event.elapsed_time(timed)
        with pytest.raises(ValueError, match="Both events must be recorded before calculating elapsed time."):
            timed.elapsed_time(lib.Event(enable_timing=True))
        with pytest.raises(TypeError):
            lib.Stream("cpu", 0)
    assert str(answers[ember]) == str(answers[torch])
