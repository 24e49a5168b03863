"""What a benchmark measured and how to print it: ``TaskSpec`` (the statement and its labels), ``Measurement`` (the
replicate times and their statistics) and the unit and significant-figure helpers ``Compare`` formats with."""
import collections
import contextlib
import dataclasses
import math
import textwrap

import numpy as np

import ember
from .... import _alias

__all__ = ["TaskSpec", "Measurement", "select_unit", "unit_to_english", "trim_sigfig", "ordered_unique",
           "set_torch_threads"]

_MAX_SIGNIFICANT_FIGURES = 4
_MIN_CONFIDENCE_INTERVAL = 25e-9
_IQR_WARN_THRESHOLD = 0.1
_IQR_GROSS_WARN_THRESHOLD = 0.25

_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1}
_UNIT_NAMES = {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}


def _log10_single(x):
    """log10 of ``x`` in float32. PyTorch takes these logarithms of default-dtype (float32) tensors, and the results
    pick units, digit counts and significant figures, so computing them in float32 keeps the printed text the same."""
    with np.errstate(divide="ignore", invalid="ignore"):
        # Through float64 and rounded once: NumPy's own float32 log10 can be an ulp off (log10(1e-6) = -6.0000005),
        # which moves unit boundaries.
        return float(np.float32(np.log10(np.float64(np.float32(x)))))


@dataclasses.dataclass(init=True, repr=False, eq=True, frozen=True)
class TaskSpec:
    """The description of one benchmark task (everything a Timer was given except its globals): the statement, its
    setup and the labels that name and group its measurements."""
    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self):
        """A name for the task: ``label`` (else the one-line ``stmt``) with ``: sub_label``, or for a multi-line
        statement ``stmt:`` and the statement indented below."""
        suffix = f": {self.sub_label}" if self.sub_label else ""
        if self.label is not None:
            return self.label + suffix
        if "\n" not in self.stmt:
            return self.stmt + suffix
        sub = f" ({self.sub_label})" if self.sub_label else ""
        return f"stmt:{sub}\n" + textwrap.indent(self.stmt, "  ")

    def setup_str(self):
        """The setup as printed: empty for ``pass``, ``setup: ...`` for one line, else indented under ``setup:``."""
        if not self.setup or self.setup == "pass":
            return ""
        if "\n" in self.setup:
            return "setup:\n" + textwrap.indent(self.setup, "  ")
        return f"setup: {self.setup}"

    def summarize(self):
        """The title, description and setup lines that head a Measurement's repr (a multi-line part is followed by a
        blank line)."""
        parts = [self.title, self.description or "", self.setup_str()]
        return "\n".join(part + "\n" if "\n" in part else part for part in parts if part)


_TASKSPEC_FIELDS = tuple(field.name for field in dataclasses.fields(TaskSpec))


def _quantile(ordered, q):
    """The ``q`` quantile of sorted floats by linear interpolation, with the two-sided lerp PyTorch's
    ``Tensor.quantile`` uses (so the last bits agree with it)."""
    rank = q * (len(ordered) - 1)
    below = math.floor(rank)
    low, high = ordered[below], ordered[math.ceil(rank)]
    weight = rank - below
    if weight < 0.5:
        return low + weight * (high - low)
    return high - (high - low) * (1 - weight)


@dataclasses.dataclass(init=True, repr=False)
class Measurement:
    """The result of timing a statement: ``raw_times`` holds one entry per replicate, each the time of
    ``number_per_run`` executions. The statistics (``times``, ``median``, ``mean``, ``iqr``, ...) are per execution;
    the TaskSpec's fields (``stmt``, ``label``, ``num_threads``, ...) read through as attributes; ``metadata`` is
    the caller's own payload."""
    number_per_run: int
    raw_times: list[float]
    task_spec: TaskSpec
    metadata: dict | None = None

    def __post_init__(self):
        self._sorted_times = ()
        self._warnings = ()
        self._median = -1.0
        self._mean = -1.0
        self._p25 = -1.0
        self._p75 = -1.0

    def __getattr__(self, name):
        if name in _TASKSPEC_FIELDS:
            return getattr(self.task_spec, name)
        return super().__getattribute__(name)

    @property
    def times(self):
        """The replicate times divided by ``number_per_run``: seconds per execution of the statement."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self):
        """The median time per execution (seconds)."""
        self._lazy_init()
        return self._median

    @property
    def mean(self):
        """The mean time per execution (seconds)."""
        self._lazy_init()
        return self._mean

    @property
    def iqr(self):
        """The interquartile range (75th minus 25th percentile) of the times per execution."""
        self._lazy_init()
        return self._p75 - self._p25

    @property
    def significant_figures(self):
        """A rough count (1 to 4) of the median's trustworthy significant figures: a 90% confidence interval (z =
        1.645) from the spread of the interquartile times, compared with the median. ``Compare`` trims to it."""
        self._lazy_init()
        count = len(self._sorted_times)
        middle = self._sorted_times[count // 4:math.ceil(np.float32(3 * count / 4))]
        # float32 as PyTorch's default-dtype tensors compute these, so that trimmed tables print the same digits.
        spread = float(np.float32(np.std(np.asarray(middle, dtype=np.float32).astype(np.float64))))
        sqrt_n = float(np.sqrt(np.float32(len(middle))))
        interval = max(1.645 * spread / sqrt_n, _MIN_CONFIDENCE_INTERVAL)
        figures = math.floor(_log10_single(self._median / interval))
        return min(max(figures, 1), _MAX_SIGNIFICANT_FIGURES)

    @property
    def has_warnings(self):
        """True when the IQR is at least 10% of the median (the repr then prints a warning)."""
        self._lazy_init()
        return bool(self._warnings)

    def _lazy_init(self):
        if not self.raw_times or self._sorted_times:
            return
        self._sorted_times = tuple(sorted(self.times))
        ordered = [float(t) for t in self._sorted_times]
        self._median = _quantile(ordered, 0.5)
        self._mean = float(np.mean(np.asarray(ordered, dtype=np.float64)))
        self._p25 = _quantile(ordered, 0.25)
        self._p75 = _quantile(ordered, 0.75)
        if not self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD):
            self._add_warning("This suggests significant environmental influence.")
        elif not self.meets_confidence(_IQR_WARN_THRESHOLD):
            self._add_warning("This could indicate system fluctuation.")

    def _add_warning(self, message):
        relative = self.iqr / self.median * 100
        self._warnings += (f"  WARNING: Interquartile range is {relative:.1f}% of the median measurement.\n"
                           f"           {message}",)

    def meets_confidence(self, threshold=_IQR_WARN_THRESHOLD):
        """True when the IQR is below ``threshold`` times the median."""
        return self.iqr / self.median < threshold

    @property
    def title(self):
        """The TaskSpec's title (label or statement, with the sub_label)."""
        return self.task_spec.title

    @property
    def env(self):
        """The ``env`` tag the Timer was given, None when it had none (what PyTorch's property returns too)."""
        return self.task_spec.env

    @property
    def as_row_name(self):
        """The row name in a Compare table: the sub_label, else the statement, else ``[Unknown]``."""
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self):
        self._lazy_init()
        count = len(self._sorted_times)
        unit, scale = select_unit(self._median)
        lines = [_alias.object_repr(self), self.task_spec.summarize(),
                 f"  {'Median: ' if count > 1 else ''}{self._median / scale:.2f} {unit}"]
        if count >= 4:
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} "
                         f"({self._p25 / scale:.2f} to {self._p75 / scale:.2f})")
        threads = self.num_threads
        lines.append(f"  {count} measurement{'s' if count > 1 else ''}, {self.number_per_run} runs "
                     f"{'per measurement,' if count > 1 else ','} {threads} thread{'s' if threads > 1 else ''}")
        lines.append("\n".join(self._warnings))
        return "\n".join(lines).strip()

    @staticmethod
    def merge(measurements):
        """Pools replicates of the same task (equal TaskSpecs) into one Measurement each, in first-seen order. Times
        are rescaled to ``number_per_run=1``, so replicates with different block sizes combine; metadata is
        dropped."""
        pooled = collections.defaultdict(list)
        for measurement in measurements:
            pooled[measurement.task_spec].extend(measurement.times)
        return [Measurement(number_per_run=1, raw_times=times, task_spec=spec, metadata=None)
                for spec, times in pooled.items()]


def select_unit(t):
    """The unit (``'ns'``, ``'us'``, ``'ms'`` or ``'s'``) and its length in seconds that print ``t`` seconds with a
    few leading digits."""
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(_log10_single(t) // 3), "s")
    return unit, _UNITS[unit]


def unit_to_english(u):
    """The English name of a unit from ``select_unit`` (``'us'`` -> ``'microsecond'``)."""
    return _UNIT_NAMES[u]


def trim_sigfig(x, n):
    """``x`` rounded to ``n`` significant figures (3.14159, 2 -> 3.1), in float32 precision as PyTorch's."""
    if n != int(n):
        raise AssertionError("Number of significant figures must be an integer")
    magnitude = math.ceil(_log10_single(abs(np.float32(x))))
    scale = 10 ** (magnitude - n)
    return float(np.round(np.float32(x / scale)) * np.float32(scale))


def ordered_unique(elements):
    """The distinct elements in first-seen order."""
    return list(dict.fromkeys(elements))


@contextlib.contextmanager
def set_torch_threads(n):
    """Within the block ember runs with ``n`` threads (``ember.set_num_threads``); the prior count is restored
    after it, also when it raises."""
    prior = ember.get_num_threads()
    try:
        ember.set_num_threads(n)
        yield
    finally:
        ember.set_num_threads(prior)
