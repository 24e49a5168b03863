"""The profiler that records the operators run inside each action through ``ember.profiler`` (Lightning's
``PyTorchProfiler``): a table of the operators' times, Chrome traces of the recorded steps."""
import inspect
import os
from functools import partial

from ..utilities.exceptions import MisconfigurationException
from ..utilities.rank_zero import WarningCache, rank_zero_warn
from .profiler import Profiler

warning_cache = WarningCache()


class RegisterRecordFunction:
    """While it is entered, each submodule's forward is recorded as ``[pl][module]{class path}: {name}``; the
    PyTorchProfiler enters it around the model unless ``record_module_names=False``."""

    def __init__(self, model):
        self._model = model
        self._records = {}
        self._handles = {}

    def _start_recording_forward(self, _, input, record_name):
        from ember.profiler import record_function
        record = record_function("[pl][module]" + record_name)
        record.__enter__()
        self._records[record_name] = record
        return input

    def _stop_recording_forward(self, _, __, output, record_name):
        self._records[record_name].__exit__(None, None, None)
        return output

    def __enter__(self):
        for module_name, module in self._model.named_modules():
            if module_name:
                record_name = f"{_public_module(type(module))}.{type(module).__name__}: {module_name}"
                self._handles[module_name] = [
                    module.register_forward_pre_hook(partial(self._start_recording_forward, record_name=record_name)),
                    module.register_forward_hook(partial(self._stop_recording_forward, record_name=record_name))]

    def __exit__(self, type, value, traceback):
        for handles in self._handles.values():
            for handle in handles:
                handle.remove()
        self._handles = {}


def _public_module(cls):
    """The module of ``cls`` as programs see it: ember's own layers under their ``torch`` names in ``ember run``."""
    from ember import _alias
    name = cls.__module__
    return _alias.public_name(name) if _alias.installed and name.startswith("ember.") else name


_STEP_KINDS = ("training_step", "validation_step", "test_step", "predict_step")


class ScheduleWrapper:
    """The profiler's schedule counted per kind of step (training, validation, test, predict), each recorded to its
    end once, as Lightning's wrapper does."""

    def __init__(self, schedule):
        self._schedule = schedule
        self.reset()

    def reset(self):
        self._steps = dict.fromkeys(_STEP_KINDS, 0)
        self._reached_end = dict.fromkeys(_STEP_KINDS, False)
        self._current_action = None
        self._prev_schedule_action = None
        self._start_action_name = None

    def setup(self, start_action_name):
        self._start_action_name = start_action_name

    def pre_step(self, current_action):
        self._current_action = current_action

    def _kind(self):
        return next((kind for kind in _STEP_KINDS if self._current_action.endswith(kind)), None)

    is_training = property(lambda self: self._kind() == "training_step")
    is_validating = property(lambda self: self._kind() == "validation_step")
    is_testing = property(lambda self: self._kind() == "test_step")
    is_predicting = property(lambda self: self._kind() == "predict_step")

    @property
    def num_step(self):
        """Steps of the current kind so far."""
        kind = self._kind()
        return 0 if kind is None else self._steps[kind]

    def _step(self):
        kind = self._kind()
        if kind == "validation_step" and self._start_action_name.endswith("on_fit_start"):
            if self._steps["training_step"] > 0:   # the sanity check's steps do not count
                self._steps[kind] += 1
        elif kind is not None:
            self._steps[kind] += 1

    @property
    def has_finished(self):
        """Whether the current kind of step has been recorded to its saving step."""
        kind = self._kind()
        return kind is not None and self._reached_end[kind]

    def __call__(self, num_step):
        from ember.profiler import ProfilerAction
        if self._current_action is None or self.has_finished:
            return ProfilerAction.NONE
        self._step()
        action = self._schedule(max(self.num_step, 0))
        if self._prev_schedule_action == ProfilerAction.RECORD and action == ProfilerAction.WARMUP:
            action = ProfilerAction.RECORD   # the warm-up of another kind of step inside a recording
        if action == ProfilerAction.RECORD_AND_SAVE and self._kind() is not None:
            self._reached_end[self._kind()] = True
        self._prev_schedule_action = action
        return action


class PyTorchProfiler(Profiler):
    """Profiles the operators run inside the Trainer's actions with ``ember.profiler.profile`` (Lightning's
    ``PyTorchProfiler``): each action is a ``[pl][profile]{action}`` block, each submodule's forward a
    ``[pl][module]...`` block; the summary is the operators' table (``row_limit`` rows sorted by ``sort_by_key``,
    ``table_kwargs`` passed on) and, with ``export_to_chrome``, the recorded steps are written as Chrome traces to
    ``dirpath``. Other keyword arguments go to ``ember.profiler.profile`` (``schedule``, ``record_shapes``,
    ``profile_memory``, ...); the default schedule (wait 1, warm up 1, record 3) records every step where a stage
    has fewer than 5."""

    STEP_FUNCTIONS = {"training_step", "validation_step", "test_step", "predict_step"}
    AVAILABLE_SORT_KEYS = {"cpu_time", "cuda_time", "cpu_time_total", "cuda_time_total", "cpu_memory_usage",
                           "cuda_memory_usage", "self_cpu_memory_usage", "self_cuda_memory_usage", "count"}

    def __init__(self, dirpath=None, filename=None, group_by_input_shapes=False, emit_nvtx=False,
                 export_to_chrome=True, row_limit=20, sort_by_key=None, record_module_names=True,
                 table_kwargs=None, **profiler_kwargs):
        super().__init__(dirpath=dirpath, filename=filename)
        self._group_by_input_shapes = group_by_input_shapes and profiler_kwargs.get("record_shapes", False)
        self._emit_nvtx = emit_nvtx
        self._export_to_chrome = export_to_chrome
        self._row_limit = row_limit
        self._sort_by_key = sort_by_key or _default_sort_by_key(profiler_kwargs)
        self._record_module_names = record_module_names
        self._profiler_kwargs = profiler_kwargs
        self._table_kwargs = table_kwargs if table_kwargs is not None else {}
        self.profiler = None
        self.function_events = None
        self._lightning_module = None   # the Trainer sets it
        self._register = None
        self._recording_map = {}
        self._schedule = None
        self._init_schedule(profiler_kwargs)
        if self._sort_by_key not in self.AVAILABLE_SORT_KEYS:
            raise MisconfigurationException(
                f"Found sort_by_key: {self._sort_by_key}. Should be within {self.AVAILABLE_SORT_KEYS}. ")
        from ember.profiler import EventList
        valid = set(inspect.signature(EventList.table).parameters) - {"self", "sort_by", "row_limit"}
        for key in self._table_kwargs:
            if key in {"sort_by", "row_limit"}:
                raise KeyError(f"Found invalid table_kwargs key: {key}. This is already a positional argument of the "
                               "Profiler.")
            if key not in valid:
                raise KeyError(f"Found invalid table_kwargs key: {key}. Should be within {valid}.")

    def _init_schedule(self, profiler_kwargs):
        from ember.profiler import ProfilerAction, ProfilerActivity
        schedule = profiler_kwargs.get("schedule")
        if schedule is not None:
            if not callable(schedule):
                raise MisconfigurationException(f"Schedule should be a callable. Found: {schedule}")
            action = schedule(0)
            if not isinstance(action, ProfilerAction):
                raise MisconfigurationException(
                    f"Schedule should return a `torch.profiler.ProfilerAction`. Found: {action}")
        schedule = schedule if "schedule" in profiler_kwargs else _default_schedule()
        self._schedule = ScheduleWrapper(schedule) if schedule is not None else None
        self._profiler_kwargs["schedule"] = self._schedule
        self._profiler_kwargs["activities"] = profiler_kwargs.get("activities") or [ProfilerActivity.CPU]
        self._has_on_trace_ready = "on_trace_ready" in profiler_kwargs
        self._export_to_flame_graph = profiler_kwargs.get("export_to_flame_graph", False)
        self._metric = profiler_kwargs.get("metric", "self_cpu_time_total")
        self._profiler_kwargs["with_stack"] = profiler_kwargs.get("with_stack", False) or self._export_to_flame_graph

    @property
    def _total_steps(self):
        trainer = self._lightning_module.trainer
        if self._schedule.is_training:
            return trainer.num_training_batches
        if self._schedule.is_validating:
            return sum(trainer.num_val_batches) + sum(trainer.num_sanity_val_batches)
        if self._schedule.is_testing:
            return sum(trainer.num_test_batches)
        if self._schedule.is_predicting:
            return sum(trainer.num_predict_batches)
        raise NotImplementedError("Unsupported schedule")

    def _should_override_schedule(self):
        return (self._lightning_module is not None and self._schedule is not None and self._total_steps < 5
                and self._schedule._schedule is _default_schedule())

    def start(self, action_name):
        from ember.profiler import record_function
        if self.profiler is None:
            if self._schedule is not None:
                self._schedule.setup(action_name)
            self._create_profilers()
            self.profiler.__enter__()
        if self._lightning_module is not None and self._register is None and self._record_module_names:
            self._register = RegisterRecordFunction(self._lightning_module)
            self._register.__enter__()
        if self.profiler is not None and action_name not in self._recording_map:
            recording = record_function("[pl][profile]" + action_name)
            recording.__enter__()
            self._recording_map[action_name] = recording

    def stop(self, action_name):
        if action_name in self._recording_map:
            self._recording_map.pop(action_name).__exit__(None, None, None)
        if self._emit_nvtx or self.profiler is None or not any(action_name.endswith(f) for f in self.STEP_FUNCTIONS):
            return
        if self._schedule is not None:
            self._schedule.pre_step(action_name)
        if self._should_override_schedule():
            warning_cache.warn("The PyTorch Profiler default schedule will be overridden as there is not enough "
                               "steps to properly record traces.")
            self._schedule = None
            self.profiler.schedule = None   # record every step

        def on_trace_ready(profiler):
            if self.dirpath is None:
                rank_zero_warn("The PyTorchProfiler failed to export trace as `dirpath` is None")
                return
            if self._export_to_chrome:
                from ember.profiler import tensorboard_trace_handler
                tensorboard_trace_handler(str(self.dirpath),
                                          self._prepare_filename(action_name=action_name, extension=""))(profiler)
            if self._export_to_flame_graph:
                path = os.path.join(self.dirpath, self._prepare_filename(action_name=action_name, extension=".stack"))
                profiler.export_stacks(path, metric=self._metric)

        if not self._has_on_trace_ready:
            self.profiler.on_trace_ready = on_trace_ready
        if self._schedule is not None:
            self.profiler.step_num = self._schedule.num_step
        self.profiler.step()

    def summary(self):
        if not self._profiler_kwargs.get("enabled", True) or self._emit_nvtx:
            return ""
        self._delete_profilers()
        if not self.function_events:
            return ""
        data = self.function_events.key_averages(group_by_input_shape=self._group_by_input_shapes)
        table = data.table(sort_by=self._sort_by_key, row_limit=self._row_limit, **self._table_kwargs)
        return self._stats_to_str({"records": table})

    def _create_profilers(self):
        if self.profiler is not None:
            return
        if self._emit_nvtx:
            raise MisconfigurationException("`PyTorchProfiler(emit_nvtx=True)` needs CUDA's NVTX, which ember does "
                                            "not have")
        from ember.profiler import profile
        parameters = inspect.signature(profile.__init__).parameters
        self.profiler = profile(**{k: v for k, v in self._profiler_kwargs.items() if k in parameters})

    def _delete_profilers(self):
        if self.profiler is not None:
            self.profiler.__exit__(None, None, None)
            self.function_events = self.profiler.events()
            self.profiler = None
        if self._schedule is not None:
            self._schedule.reset()
        if self._register is not None:
            self._register.__exit__(None, None, None)
            self._register = None

    def teardown(self, stage):
        self._delete_profilers()
        for action_name in list(self._recording_map):
            self.stop(action_name)
        self._recording_map = {}
        super().teardown(stage=stage)


_DEFAULT_SCHEDULE = []


def _default_schedule():
    """The one default schedule (wait 1, warm up 1, record 3), made once so that it can be recognised."""
    if not _DEFAULT_SCHEDULE:
        from ember.profiler import schedule
        _DEFAULT_SCHEDULE.append(schedule(wait=1, warmup=1, active=3))
    return _DEFAULT_SCHEDULE[0]


def _default_sort_by_key(profiler_kwargs):
    from ember.profiler import ProfilerActivity
    activities = profiler_kwargs.get("activities") or []
    is_cuda = profiler_kwargs.get("use_cuda", False) or ProfilerActivity.CUDA in activities
    return f"{'cuda' if is_cuda else 'cpu'}_time_total"
