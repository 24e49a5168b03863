"""The profiler that runs Python's cProfile per action and reports each action's function statistics."""
import cProfile
import io
import os
import pstats
from collections import defaultdict

from .profiler import Profiler


class AdvancedProfiler(Profiler):
    """One ``cProfile.Profile`` per action (only the latest started one enabled); the summary prints each action's
    statistics sorted by cumulative time (Lightning's ``AdvancedProfiler``).

    ``line_count_restriction``: how many functions each action lists (an int, or a fraction of them);
    ``dump_stats``: also writes each action's raw statistics to ``dirpath`` (``{stage}-{filename}-{action}.prof``).
    """

    def __init__(self, dirpath=None, filename=None, line_count_restriction=1.0, dump_stats=False):
        super().__init__(dirpath=dirpath, filename=filename)
        self.profiled_actions = defaultdict(cProfile.Profile)
        self.line_count_restriction = line_count_restriction
        self.dump_stats = dump_stats

    def start(self, action_name):
        for profile in self.profiled_actions.values():
            profile.disable()
        self.profiled_actions[action_name].enable()

    def stop(self, action_name):
        profile = self.profiled_actions.get(action_name)
        if profile is None:
            raise ValueError(f"Attempting to stop recording an action ({action_name}) which was never started.")
        profile.disable()

    def _dump_stats(self, action_name, profile):
        os.makedirs(self.dirpath, exist_ok=True)
        profile.dump_stats(os.path.join(self.dirpath, self._prepare_filename(action_name=action_name,
                                                                             extension=".prof")))

    def summary(self):
        stats = {}
        for action_name, profile in self.profiled_actions.items():
            if self.dump_stats:
                self._dump_stats(action_name, profile)
            stream = io.StringIO()
            pstats.Stats(profile, stream=stream).strip_dirs().sort_stats("cumulative").print_stats(
                self.line_count_restriction)
            stats[action_name] = stream.getvalue()
        return self._stats_to_str(stats)

    def teardown(self, stage):
        super().teardown(stage=stage)
        self.profiled_actions.clear()

    def __reduce__(self):   # a cProfile.Profile does not pickle
        return (self.__class__, (), {"dirpath": self.dirpath, "filename": self.filename,
                                     "line_count_restriction": self.line_count_restriction})
