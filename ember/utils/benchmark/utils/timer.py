"""``Timer``: ``timeit.Timer``'s loop with ember's thread count set for the measurement, a warmup, and replicates
whose block size keeps the clock's own cost negligible."""
import enum
import functools
import textwrap
import timeit

import ember
import ember.accelerator
import ember.cuda

from . import common

__all__ = ["Timer", "timer", "Language"]

_PYTHON_ONLY = ("ember.utils.benchmark.Timer runs only Python statements: C++ timing (language=Language.CPP) "
                "needs PyTorch's C++ extension toolchain, which ember does not have. Time the Python call instead.")


@functools.cache
def _gpu_present():
    return ember.accelerator.is_available()


def timer():
    """The default clock: ``timeit.default_timer()``, read after the GPU's queued work finishes when ember has
    started CUDA in this process (so asynchronous kernels are counted in the block that launched them)."""
    if ember.cuda.is_initialized() and _gpu_present():
        ember.cuda.synchronize()
    return timeit.default_timer()


class Language(enum.Enum):
    """The language of a Timer's statement. ember runs ``PYTHON`` only; ``CPP`` exists so code naming it reads the
    same, and a Timer given it raises ValueError."""
    PYTHON = 0
    CPP = 1


class Timer:
    """Measures how long a Python statement takes, as PyTorch's ``torch.utils.benchmark.Timer``.

    ``stmt`` runs in a loop after ``setup`` (both strings, dedented, compiled once) in a namespace made from a copy
    of ``globals`` (so nothing the statement defines leaks back), to which ``torch`` and ``ember`` are added as
    ember when absent. ``timer`` is the clock. During every measurement ember runs with ``num_threads`` threads
    (``ember.set_num_threads``; the prior count is restored after). ``label``, ``sub_label``, ``description`` and
    ``env`` name the result: they head a Measurement's repr, and ``Compare`` groups tables by label, rows by
    sub_label (else the statement) and env, columns by description. ``global_setup`` and ``language='cpp'`` are
    PyTorch's C++ options: ember raises ValueError for them.
    """

    _timer_cls = timeit.Timer

    def __init__(self, stmt="pass", setup="pass", global_setup="", timer=timer, globals=None, label=None,
                 sub_label=None, description=None, env=None, num_threads=1, language=Language.PYTHON):
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        self._globals = dict(globals or {})
        if language in (Language.PYTHON, "py", "python"):
            self._globals.setdefault("torch", ember)
            self._globals.setdefault("ember", ember)
            self._language = Language.PYTHON
            if global_setup:
                raise ValueError(f"global_setup is C++ only, got `{global_setup}`. Most likely this code can simply "
                                 "be moved to `setup`.")
        elif language in (Language.CPP, "cpp", "c++"):
            raise ValueError(_PYTHON_ONLY)
        else:
            raise ValueError(f"Invalid language `{language}`.")

        stmt, setup = _tidy(stmt), _tidy(setup)
        # timeit runs the statement in the dict it is given, so it gets its own copy: what the statement assigns
        # to globals stays out of the caller's dict and out of self._globals.
        self._timer = self._timer_cls(stmt=stmt, setup=setup, timer=timer, globals=dict(self._globals))
        self._task_spec = common.TaskSpec(stmt=stmt, setup=setup, global_setup=global_setup, label=label,
                                          sub_label=sub_label, description=description, env=env,
                                          num_threads=num_threads)

    def _timeit(self, number):
        # A zero reading (a coarse clock, an empty loop) would divide by zero in the block-size estimate.
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number=1000000):
        """Runs ``setup`` and then ``stmt`` ``number`` times, after a warmup of ``max(number // 100, 2)`` runs, and
        returns a Measurement of that one replicate (as ``timeit.Timer.timeit``)."""
        with common.set_torch_threads(self._task_spec.num_threads):
            self._timeit(max(int(number // 100), 2))
            return common.Measurement(number_per_run=number, raw_times=[self._timeit(number)],
                                      task_spec=self._task_spec)

    def repeat(self, repeat=-1, number=-1):
        """Not provided (as in PyTorch): ``blocked_autorange`` measures replicates."""
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback=None):
        """Not provided (as in PyTorch): ``blocked_autorange`` chooses the block size and measures replicates."""
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _measure_blocks(self, number, stop, min_run_time, max_run_time=None, callback=None):
        """Times blocks of ``number`` runs until at least ``min_run_time`` seconds are measured and ``stop(times)``
        agrees, or more than ``max_run_time`` seconds are measured."""
        times = []
        total = 0.0
        done = False
        with common.set_torch_threads(self._task_spec.num_threads):
            while total < min_run_time or not done:
                spent = self._timeit(number)
                times.append(spent)
                total += spent
                if callback:
                    callback(number, spent)
                done = stop(times)
                if max_run_time and total > max_run_time:
                    break
        return times

    def _estimate_block_size(self, min_run_time):
        """The number of runs per block: powers of ten from 1 until a block takes at least 10,000 times the empty
        loop's time and at least ``min_run_time / 1000``, or more than ``min_run_time``, capped at 10**9. These
        trial blocks also warm the statement up."""
        with common.set_torch_threads(self._task_spec.num_threads):
            overhead = sorted(self._timeit(0) for _ in range(5))[2]
            number = 1
            while True:
                taken = self._timeit(number)
                if overhead / taken <= 1e-4 and taken >= min_run_time / 1000:
                    break
                if taken > min_run_time or number * 10 > 2147483647:
                    break
                number *= 10
        return number

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        """Measures replicates of one block size until ``min_run_time`` seconds have been measured.

        The block size (runs per replicate) is the smallest power of ten whose blocks make the clock's own cost
        negligible (see ``_estimate_block_size``); ``setup`` runs before each block. ``callback(number, seconds)``
        is called after each block. Returns a Measurement with ``number_per_run`` the block size and one raw time
        per block.
        """
        number = self._estimate_block_size(min_run_time)
        times = self._measure_blocks(number, lambda times: True, min_run_time=min_run_time, callback=callback)
        return common.Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0, callback=None):
        """Like ``blocked_autorange``, but keeps measuring blocks until there are more than three, at least
        ``min_run_time`` seconds in all, and their IQR is below ``threshold`` times their median, or until more than
        ``max_run_time`` seconds are measured. The block size is chosen as for ``min_run_time=0.05``."""
        number = self._estimate_block_size(min_run_time=0.05)

        def steady(times):
            return len(times) > 3 and common.Measurement(
                number_per_run=number, raw_times=times, task_spec=self._task_spec).meets_confidence(threshold)

        times = self._measure_blocks(number, steady, min_run_time, max_run_time, callback=callback)
        return common.Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def collect_callgrind(self, number=100, *, repeats=None, collect_baseline=True, retain_out_file=False):
        """Not available in ember: PyTorch counts instructions with Valgrind's Callgrind through its own C++
        bindings. After PyTorch's checks of ``repeats`` and of the statement (it runs once), raises OSError, the
        error PyTorch raises where Callgrind is unavailable."""
        if repeats is not None and repeats < 1:
            raise ValueError("If specified, `repeats` must be >= 1")
        self._timeit(1)
        raise OSError("Callgrind instruction counts are not available in ember: ember.utils.benchmark.Timer measures "
                      "wall time only (timeit, blocked_autorange, adaptive_autorange).")


def _tidy(code):
    """Dedents a code string and drops the newline that opens a triple-quoted block and the trailing whitespace."""
    code = textwrap.dedent(code)
    return (code[1:] if code.startswith("\n") else code).rstrip()
