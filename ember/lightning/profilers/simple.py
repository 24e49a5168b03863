"""The profiler that times each action: mean and total durations, call counts and shares of the run's time."""
import math
import os
import time
from collections import defaultdict

from .profiler import Profiler


class SimpleProfiler(Profiler):
    """Records each action's durations and reports their mean, count, total and share of the whole run
    (Lightning's ``SimpleProfiler``; ``extended=False`` reports the mean and total only).

    Starting an action that has started, or stopping one that has not, raises ``ValueError``."""

    def __init__(self, dirpath=None, filename=None, extended=True):
        super().__init__(dirpath=dirpath, filename=filename)
        self.current_actions = {}
        self.recorded_durations = defaultdict(list)
        self.extended = extended
        self.start_time = time.perf_counter()

    def start(self, action_name):
        if action_name in self.current_actions:
            raise ValueError(f"Attempted to start {action_name} which has already started.")
        self.current_actions[action_name] = time.perf_counter()

    def stop(self, action_name):
        end = time.perf_counter()
        if action_name not in self.current_actions:
            raise ValueError(f"Attempting to stop recording an action ({action_name}) which was never started.")
        self.recorded_durations[action_name].append(end - self.current_actions.pop(action_name))

    def _make_report_extended(self):
        """Rows (action, mean, calls, total, percent of the run) by percent, the calls in all, the run's time."""
        run_time = time.perf_counter() - self.start_time
        rows = []
        for action, durations in self.recorded_durations.items():
            total = math.fsum(durations)
            rows.append((action, total / len(durations), len(durations), total, 100.0 * total / run_time))
        rows.sort(key=lambda row: row[4], reverse=True)
        return rows, sum(row[2] for row in rows), run_time

    def _make_report(self):
        """Rows (action, mean, total) by mean."""
        rows = []
        for action, durations in self.recorded_durations.items():
            total = math.fsum(durations)
            rows.append((action, total / len(durations), total))
        rows.sort(key=lambda row: row[1], reverse=True)
        return rows

    def summary(self):
        sep = os.linesep
        text = (f"{self._stage.upper()} " if self._stage is not None else "") + f"Profiler Report{sep}"
        if self.extended and not self.recorded_durations:
            return text + sep
        width = max(len(action) for action in self.recorded_durations)

        def row(*cells):
            action, *rest = cells
            return f"{sep}|  {action:<{width}s}\t|" + "".join(f"  {cell:<15}\t|" for cell in rest)

        if self.extended:
            header = row("Action", "Mean duration (s)", "Num calls", "Total time (s)", "Percentage %")
            rule = f"{sep}{'-' * len(header.expandtabs())}"
            rows, calls, run_time = self._make_report_extended()
            text += rule + header + rule + row("Total", "-", f"{calls}", f"{run_time:.5}", "100 %") + rule
            for action, mean, count, total, percent in rows:
                text += row(action, f"{mean:.5}", f"{count}", f"{total:.5}", f"{percent:.5}")
        else:
            header = row("Action", "Mean duration (s)", "Total time (s)")
            rule = f"{sep}{'-' * len(header.expandtabs())}"
            text += rule + header + rule
            for action, mean, total in self._make_report():
                text += row(action, f"{mean:.5}", f"{total:.5}")
        return text + rule + sep
