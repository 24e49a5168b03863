"""What the profiler records: one FunctionEvent per op call or record_function block, their averages by name, and
PyTorch's summary table."""
import json
from collections import OrderedDict

__all__ = ["FunctionEvent", "FunctionEventAvg", "EventList"]


def _format_time(time_us):
    """PyTorch's time format: seconds, milliseconds or microseconds with three decimals."""
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_memory(nbytes):
    """PyTorch's memory format: GB, MB or KB with two decimals, or bytes."""
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


class FunctionEvent:
    """One recorded interval: an op call (``aten::mul``) or a ``record_function`` block, with its children."""

    def __init__(self, id, name, start_us, thread=0, input_shapes=None, is_user_annotation=False):
        # a profiler step's block is named ProfilerStep* (so the table sums the steps), ProfilerStep#N in traces
        self.id, self.trace_name, self.thread = id, name, thread
        self.name = "ProfilerStep*" if name.startswith("ProfilerStep#") else name
        self.start_us, self.end_us = start_us, start_us
        self.input_shapes = input_shapes or []
        self.is_user_annotation = is_user_annotation
        self.cpu_children = []
        self.cpu_parent = None
        self.count = 1
        self.cpu_memory_usage = 0   # bytes allocated in the interval, children included (``profile_memory``)
        self.stack = []             # PyTorch 2.13 records none on op events, even ``with_stack``

    @property
    def key(self):
        return self.name

    @property
    def cpu_time_total(self):
        """Wall time of the interval, children included (microseconds)."""
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self):
        """Wall time not spent in recorded children (microseconds)."""
        return self.cpu_time_total - sum(child.cpu_time_total for child in self.cpu_children)

    cpu_time = cpu_time_total

    @property
    def self_cpu_memory_usage(self):
        """Bytes allocated in the interval outside recorded children."""
        return self.cpu_memory_usage - sum(child.cpu_memory_usage for child in self.cpu_children)

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={_format_time(self.cpu_time_total)} "
                f"start_us={self.start_us:.3f} end_us={self.end_us:.3f} "
                f"cpu_children={[c.id for c in self.cpu_children]} "
                f"input_shapes={self.input_shapes}>")


class FunctionEventAvg:
    """Totals over the events sharing a key (name, and input shapes when grouped by them)."""

    def __init__(self, key, input_shapes=None):
        self.key = key
        self.input_shapes = input_shapes
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.is_user_annotation = False
        self.stack = None

    def add(self, event):
        """Adds one event's count, times and memory; the stack is the first event's."""
        if self.stack is None:
            self.stack = event.stack
        self.count += event.count
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.cpu_memory_usage += event.cpu_memory_usage
        self.self_cpu_memory_usage += event.self_cpu_memory_usage
        self.is_user_annotation = event.is_user_annotation
        return self

    @property
    def cpu_time(self):
        """Average wall time per call (microseconds)."""
        return self.cpu_time_total / max(self.count, 1)

    @property
    def cpu_time_str(self):
        return _format_time(self.cpu_time)

    @property
    def cpu_time_total_str(self):
        return _format_time(self.cpu_time_total)

    @property
    def self_cpu_time_total_str(self):
        return _format_time(self.self_cpu_time_total)

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_str} input_shapes={self.input_shapes}>")


class EventList(list):
    """A list of events with PyTorch's summaries: ``key_averages()``, ``table()``, ``export_chrome_trace()``;
    ``profile_memory``: the table has PyTorch's memory columns."""

    def __init__(self, events=(), profile_memory=False):
        super().__init__(events)
        self._profile_memory = profile_memory

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        """One FunctionEventAvg per name (and input shapes, and first ``group_by_stack_n`` stack entries), in order
        of first appearance."""
        groups = OrderedDict()
        for event in self:
            key = (event.key,)
            if group_by_input_shape:
                key += (str(event.input_shapes),)
            if group_by_stack_n > 0:
                key += tuple(event.stack[:group_by_stack_n])
            if key not in groups:
                groups[key] = FunctionEventAvg(event.key, event.input_shapes if group_by_input_shape else None)
            groups[key].add(event)
        for average in groups.values():
            average.stack = average.stack[:group_by_stack_n]
        return EventList(groups.values(), self._profile_memory)

    def total_average(self):
        """All events summed into one FunctionEventAvg keyed 'Total'."""
        total = FunctionEventAvg("Total")
        for event in self:
            total.add(event)
        return total

    def self_cpu_time_total(self):
        return sum(event.self_cpu_time_total for event in self)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False):
        """PyTorch's text table: name, self and total CPU time (and shares), average, memory (``profile_memory``),
        number of calls and input shapes (grouped by them)."""
        rows = list(self)
        if top_level_events_only:
            rows = [r for r in rows if getattr(r, "cpu_parent", None) is None]
        if sort_by is not None:
            rows.sort(key=lambda r: getattr(r, sort_by), reverse=True)
        if row_limit is not None and row_limit > 0:
            rows = rows[:row_limit]
        with_shapes = any(getattr(r, "input_shapes", None) for r in rows) and \
            any(isinstance(r, FunctionEventAvg) and r.input_shapes is not None for r in rows)
        name_width = min(max([len(r.key) for r in rows] + [4]) + 4, max_name_column_width)
        total = self.self_cpu_time_total() or 1.0
        headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
        if self._profile_memory:
            headers += ["CPU Mem", "Self CPU Mem"]
        headers.append("# of Calls")
        widths = [name_width] + [12] * (len(headers) - 1)
        if with_shapes:
            shapes_width = min(max(len(str(r.input_shapes)) for r in rows) + 4, max_shapes_column_width)
            headers.append("Input Shapes")
            widths.append(shapes_width)
        line = "".join("-" * w + "  " for w in widths)

        def row(values):
            return "".join(str(v).rjust(w) + "  " for v, w in zip(values, widths))
        out = [line]
        if header is not None:
            out = ["=" * (len(line) - 2), header] + out
        out += [row(headers), line]
        for r in rows:
            name = r.key
            if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
                name = name[:max_name_column_width - 3] + "..."
            values = [name, f"{r.self_cpu_time_total / total * 100:.2f}%", _format_time(r.self_cpu_time_total),
                      f"{r.cpu_time_total / total * 100:.2f}%", _format_time(r.cpu_time_total),
                      _format_time(r.cpu_time)]
            if self._profile_memory:
                values += [_format_memory(r.cpu_memory_usage), _format_memory(r.self_cpu_memory_usage)]
            values.append(r.count)
            if with_shapes:
                values.append(str(r.input_shapes)[:shapes_width])
            out.append(row(values))
        out.append(line)
        out.append(f"Self CPU time total: {_format_time(self.self_cpu_time_total())}")
        return "\n".join(out) + "\n"

    def export_chrome_trace(self, path):
        """Writes the events in Chrome's trace-event JSON format (open in chrome://tracing or Perfetto)."""
        events = [{"name": e.trace_name, "ph": "X", "ts": e.start_us, "dur": e.cpu_time_total, "tid": e.thread,
                   "pid": 0, "cat": "user_annotation" if e.is_user_annotation else "cpu_op",
                   "args": {"Input Dims": e.input_shapes} if e.input_shapes else {}} for e in self]
        text = json.dumps({"traceEvents": events, "displayTimeUnit": "ms"})
        if str(path).endswith(".gz"):   # as PyTorch's: a path ending in .gz is written gzip-compressed
            import gzip
            with gzip.open(path, "wt") as f:
                f.write(text)
        else:
            with open(path, "w") as f:
                f.write(text)
