"""Throughput measurement (Lightning Fabric's ``lightning.fabric.utilities.throughput``): ``Throughput`` turns
elapsed time and batch, sample, item and FLOP counts into rates over a window; ``measure_flops`` counts a model's
FLOPs with ``ember.utils.flop_counter``; ``get_available_flops`` is a device's peak (unknown here: None)."""
from collections import deque

from .rank_zero import rank_zero_warn


class Throughput:
    """Rates over the last ``window_size`` updates: ``device{sep}batches_per_sec``, ``device{sep}samples_per_sec``,
    ``device{sep}items_per_sec`` (with lengths), ``device{sep}flops_per_sec`` and ``device{sep}mfu`` (with FLOPs and
    ``available_flops``), the global rates over ``world_size`` devices when it is above 1, and the totals ``time``,
    ``batches``, ``samples``, ``lengths`` (Lightning's ``Throughput``). Rates appear once the window is full.

    ``update`` takes running totals (each must increase); ``compute`` returns the metrics; ``reset`` clears."""

    def __init__(self, available_flops=None, world_size=1, window_size=100, separator="/"):
        self.available_flops = available_flops
        self.separator = separator
        assert world_size > 0
        self.world_size = world_size
        assert window_size > 1   # rates come from the window's first and last values
        self._time = _MonotonicWindow(maxlen=window_size)
        self._batches = _MonotonicWindow(maxlen=window_size)
        self._samples = _MonotonicWindow(maxlen=window_size)
        self._lengths = _MonotonicWindow(maxlen=window_size)
        self._flops = deque(maxlen=window_size)

    def update(self, *, time, batches, samples, lengths=None, flops=None):
        """Records the totals so far on this device: seconds elapsed, batches, samples, items (``lengths``) and the
        FLOPs of this update's batches."""
        self._time.append(time)
        if samples < batches:
            raise ValueError(f"Expected samples ({samples}) to be greater or equal than batches ({batches})")
        self._batches.append(batches)
        self._samples.append(samples)
        if lengths is not None:
            if lengths < samples:
                raise ValueError(f"Expected lengths ({lengths}) to be greater or equal than samples ({samples})")
            self._lengths.append(lengths)
            if len(self._samples) != len(self._lengths):
                raise RuntimeError(f"If lengths are passed ({len(self._lengths)}), there needs to be the same number "
                                   f"of samples ({len(self._samples)})")
        if flops is not None:
            self._flops.append(flops * self.world_size)   # summed over the devices

    def compute(self):
        """The totals and, once the window is full, the rates."""
        sep, several = self.separator, self.world_size > 1
        metrics = {"time": self._time[-1], "batches": self._batches[-1], "samples": self._samples[-1]}
        if self._lengths:
            metrics["lengths"] = self._lengths[-1]
        if len(self._time) == self._time.maxlen:
            elapsed = self._time[-1] - self._time[0]
            batches_per_sec = (self._batches[-1] - self._batches[0]) / elapsed
            samples_per_sec = (self._samples[-1] - self._samples[0]) / elapsed
            metrics[f"device{sep}batches_per_sec"] = batches_per_sec
            metrics[f"device{sep}samples_per_sec"] = samples_per_sec
            if several:
                metrics["batches_per_sec"] = batches_per_sec * self.world_size
                metrics["samples_per_sec"] = samples_per_sec * self.world_size
            if len(self._lengths) == self._lengths.maxlen:
                items_per_sec = (self._lengths[-1] - self._lengths[0]) / elapsed
                metrics[f"device{sep}items_per_sec"] = items_per_sec
                if several:
                    metrics["items_per_sec"] = items_per_sec * self.world_size
        if len(self._flops) == self._flops.maxlen:
            flops_per_sec = (sum(self._flops) - self._flops[0]) / (self._time[-1] - self._time[0])
            if several:
                metrics["flops_per_sec"] = flops_per_sec
            metrics[f"device{sep}flops_per_sec"] = flops_per_sec / self.world_size
            if self.available_flops:
                metrics[f"device{sep}mfu"] = flops_per_sec / self.world_size / self.available_flops
        return metrics

    def reset(self):
        """Forgets every update."""
        for window in (self._time, self._batches, self._samples, self._lengths, self._flops):
            window.clear()


def measure_flops(model, forward_fn, loss_fn=None):
    """The FLOPs of ``forward_fn()`` (and, with ``loss_fn``, of the loss and its backward) as
    ``ember.utils.flop_counter.FlopCounterMode`` counts them; build the model on the meta device to count for free."""
    from ember.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:
        if loss_fn is None:
            forward_fn()
        else:
            loss_fn(forward_fn()).backward()
    return counter.get_total_flops()


def get_available_flops(device, dtype):
    """A device's theoretical peak FLOP/s for ``dtype``, which MFU divides by: Lightning knows some GPUs' and TPUs';
    ember knows none (the CPU has none in Lightning either), so None, with Lightning's warning for a GPU."""
    if device.type == "cuda":
        import ember
        rank_zero_warn(f"FLOPs not found for {ember.cuda.get_device_name(device)!r}")
    return None


class _MonotonicWindow(list):
    """A list of at most ``maxlen`` values, appended only, each larger than the one before."""

    def __init__(self, maxlen):
        super().__init__()
        self.maxlen = maxlen

    @property
    def last(self):
        return self[-1] if self else None

    def append(self, x):
        last = self.last
        if last is not None and last >= x:
            raise ValueError(f"Expected the value to increase, last: {last}, current: {x}")
        list.append(self, x)
        if len(self) > self.maxlen:
            del self[0]

    def __setitem__(self, key, value):
        raise NotImplementedError("__setitem__ is not supported")
