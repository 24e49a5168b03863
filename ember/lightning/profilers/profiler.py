"""The profiler base class: ``start``/``stop``/``profile`` an action, the summary written at the end of each Trainer
stage to the log (or to ``dirpath/filename``), as Lightning's ``Profiler``."""
import logging
import os
import re
from abc import ABC, abstractmethod
from contextlib import contextmanager

log = logging.getLogger(__name__)


class Profiler(ABC):
    """Records how long the Trainer's actions take (Lightning's ``Profiler``); subclass it for a custom profiler.

    ``dirpath``/``filename``: where the summary goes (``{stage}-{filename}.txt``, appended to); without a filename
    it is logged. ``dirpath`` defaults to the Trainer's ``log_dir``."""

    def __init__(self, dirpath=None, filename=None):
        self.dirpath = dirpath
        self.filename = filename
        self._output_file = None
        self._write_stream = None
        self._local_rank = None
        self._stage = None

    @abstractmethod
    def start(self, action_name):
        """Starts recording ``action_name``."""

    @abstractmethod
    def stop(self, action_name):
        """Stops recording ``action_name``."""

    def summary(self):
        """The report of what was recorded (empty here)."""
        return ""

    @contextmanager
    def profile(self, action_name):
        """A context manager recording its block as ``action_name``."""
        try:
            self.start(action_name)
            yield action_name
        finally:
            self.stop(action_name)

    def _rank_zero_info(self, *args, **kwargs):
        if self._local_rank in (None, 0):
            log.info(*args, **kwargs)

    def _prepare_filename(self, action_name=None, extension=".txt"):
        parts = [part for part in (self._stage, self.filename or None,
                                   None if self._local_rank is None else str(self._local_rank), action_name)
                 if part is not None]
        base = re.sub(r"_+", "_", re.sub(r"[\\/:*?\"<>|\n\r\t]", "_", "-".join(parts))).strip()
        return (base or "profile") + extension

    def _prepare_streams(self):
        if self._write_stream is not None:
            return
        if self.filename and self.dirpath:
            os.makedirs(self.dirpath, exist_ok=True)
            self._output_file = open(os.path.join(self.dirpath, self._prepare_filename()), "a")
            self._write_stream = self._output_file.write
        else:
            self._write_stream = self._rank_zero_info

    def describe(self):
        """Writes the summary (to the file or the log) and tears down; the Trainer calls it at the end of a stage."""
        self._prepare_streams()
        summary = self.summary()
        if summary and self._write_stream is not None:
            self._write_stream(summary)
        if self._output_file is not None:
            self._output_file.flush()
        self.teardown(stage=self._stage)

    def _stats_to_str(self, stats):
        stage = f"{self._stage.upper()} " if self._stage is not None else ""
        lines = [stage + "Profiler Report"]
        for action, value in stats.items():
            header = f"Profile stats for: {action}"
            if self._local_rank is not None:
                header += f" rank: {self._local_rank}"
            lines += [header, value]
        return os.linesep.join(lines)

    def setup(self, stage, local_rank=None, log_dir=None):
        """Called by the Trainer as a stage starts: the stage's name, the process's local rank (None in a single
        process) and the Trainer's log directory (the default ``dirpath``)."""
        self._stage = stage
        self._local_rank = local_rank
        self.dirpath = self.dirpath or log_dir

    def teardown(self, stage):
        """Closes the output file."""
        self._write_stream = None
        if self._output_file is not None:
            self._output_file.close()
            self._output_file = None

    def __del__(self):
        try:
            self.teardown(stage=self._stage)
        except AttributeError:   # __init__ did not finish
            pass

    @property
    def local_rank(self):
        """The process's local rank (0 in a single process)."""
        return 0 if self._local_rank is None else self._local_rank
