"""RichProgressBar: Lightning's progress bars drawn by ``rich`` (an optional dependency, imported only when a
RichProgressBar is made), one live display with a bar per stage and the training bar's metrics."""
import importlib.util
import math
import sys
import time
from dataclasses import dataclass
from datetime import timedelta

from ...trainer.states import TrainerFn
from .progress_bar import ProgressBar

_IS_INTERACTIVE = hasattr(sys, "ps1") or bool(sys.flags.interactive)
_COMPONENTS = {}


def _components():
    """rich's classes that the bar extends, made on first use (importing rich then)."""
    if _COMPONENTS:
        return _COMPONENTS
    from rich.live import _RefreshThread as _RichRefreshThread
    from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn
    from rich.progress_bar import ProgressBar as _RichBar
    from rich.text import Text

    class CustomBarColumn(BarColumn):
        """The bar, pulsing for a dataloader without a length."""

        def render(self, task):
            return _RichBar(total=max(0, task.total), completed=max(0, task.completed),
                            width=None if self.bar_width is None else max(1, self.bar_width),
                            pulse=not task.started or not math.isfinite(task.remaining),
                            animation_time=task.get_time(), style=self.style, complete_style=self.complete_style,
                            finished_style=self.finished_style, pulse_style=self.pulse_style)

    @dataclass
    class CustomInfiniteTask(Task):
        """A task without a total (an IterableDataset's): no time remaining."""

        @property
        def time_remaining(self):
            return None

    class _RefreshThread(_RichRefreshThread):
        """Redraws only when the bar asked for it (a soft refresh), at most ``refresh_per_second`` times."""

        def __init__(self, *args, **kwargs):
            self.refresh_cond = False
            super().__init__(*args, **kwargs)

        def run(self):
            while not self.done.is_set():
                if self.refresh_cond:
                    with self.live._lock:
                        self.live.refresh()
                    self.refresh_cond = False
                time.sleep(1 / self.refresh_per_second)

    class CustomProgress(Progress):
        """rich's Progress with infinite tasks and soft refreshes."""

        def start(self):
            if self.live.auto_refresh:
                self.live._refresh_thread = _RefreshThread(self.live, self.live.refresh_per_second)
                self.live.auto_refresh = False
            super().start()
            if self.live._refresh_thread:
                self.live.auto_refresh = True
                self.live._refresh_thread.start()

        def stop(self):
            refresh_thread = self.live._refresh_thread
            super().stop()
            if refresh_thread:
                refresh_thread.stop()
                refresh_thread.join()

        def soft_refresh(self):
            if self.live.auto_refresh and isinstance(self.live._refresh_thread, _RefreshThread):
                self.live._refresh_thread.refresh_cond = True

        def add_task(self, description, start=True, total=100.0, completed=0, visible=True, **fields):
            if math.isfinite(total):
                return super().add_task(description, start, total, completed, visible, **fields)
            task = CustomInfiniteTask(self._task_index, description, total, completed, visible=visible, fields=fields,
                                      _get_time=self.get_time, _lock=self._lock)
            return self.add_custom_task(task)

        def add_custom_task(self, task, start=True):
            with self._lock:
                self._tasks[self._task_index] = task
                if start:
                    self.start_task(self._task_index)
                index = self._task_index
                self._task_index = TaskID(int(self._task_index) + 1)
            self.refresh()
            return index

    class CustomTimeColumn(ProgressColumn):
        """``elapsed • remaining``, redrawn twice a second."""

        max_refresh = 0.5

        def __init__(self, style):
            self.style = style
            super().__init__()

        def render(self, task):
            elapsed = task.finished_time if task.finished else task.elapsed
            remaining = task.time_remaining
            elapsed = "-:--:--" if elapsed is None else str(timedelta(seconds=int(elapsed)))
            remaining = "-:--:--" if remaining is None else str(timedelta(seconds=int(remaining)))
            return Text(f"{elapsed} • {remaining}", style=self.style)

    class BatchesProcessedColumn(ProgressColumn):
        """``done/total`` batches (``--`` without a total)."""

        def __init__(self, style):
            self.style = style
            super().__init__()

        def render(self, task):
            total = task.total if task.total != float("inf") else "--"
            return Text(f"{int(task.completed)}/{total}", style=self.style)

    class ProcessingSpeedColumn(ProgressColumn):
        """Batches per second."""

        def __init__(self, style):
            self.style = style
            super().__init__()

        def render(self, task):
            speed = f"{task.speed:>.2f}" if task.speed is not None else "0.00"
            return Text(f"{speed}it/s", style=self.style)

    class MetricsTextColumn(ProgressColumn):
        """The training bar's metrics (``name: value``), each finished epoch's bar keeping its own."""

        def __init__(self, trainer, style, text_delimiter, metrics_format):
            self._trainer = trainer
            self._tasks = {}
            self._current_task_id = 0
            self._metrics = {}
            self._style = style
            self._text_delimiter = text_delimiter
            self._metrics_format = metrics_format
            super().__init__()

        def update(self, metrics):
            """Takes the metrics to draw (render runs on the refresh thread, so it must not ask the trainer)."""
            self._metrics = metrics

        def render(self, task):
            trainer = self._trainer
            if (trainer.state.fn != TrainerFn.FITTING or trainer.sanity_checking
                    or trainer.progress_bar_callback.train_progress_bar_id != task.id):
                return Text()
            if trainer.training and task.id not in self._tasks:
                self._tasks[task.id] = "None"
                if self._renderable_cache and self._current_task_id in self._renderable_cache:
                    self._tasks[self._current_task_id] = self._renderable_cache[self._current_task_id][1]
                self._current_task_id = task.id
            if trainer.training and task.id != self._current_task_id:
                return self._tasks[task.id]
            return Text(self._text_delimiter.join(self._metrics_texts()), justify="left", style=self._style)

        def _metrics_texts(self):
            for name, value in self._metrics.items():
                if not isinstance(value, str):
                    try:
                        value = f"{value:{self._metrics_format}}"
                    except (TypeError, ValueError):
                        value = str(value)
                yield f"{name}: {value}"

    _COMPONENTS.update(CustomBarColumn=CustomBarColumn, CustomInfiniteTask=CustomInfiniteTask,
                       CustomProgress=CustomProgress, CustomTimeColumn=CustomTimeColumn,
                       BatchesProcessedColumn=BatchesProcessedColumn, ProcessingSpeedColumn=ProcessingSpeedColumn,
                       MetricsTextColumn=MetricsTextColumn, TextColumn=TextColumn)
    return _COMPONENTS


def __getattr__(name):   # the rich-based column and progress classes, by Lightning's names
    if name in ("CustomBarColumn", "CustomInfiniteTask", "CustomProgress", "CustomTimeColumn",
                "BatchesProcessedColumn", "ProcessingSpeedColumn", "MetricsTextColumn"):
        return _components()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class RichProgressBarTheme:
    """The bar's styles (rich style strings or ``Style``\\ s): the description, the bar (running, finished, pulsing
    for a dataloader without length), the batch count, the times, the speed, the metrics, and how metrics are
    separated and formatted."""

    description: object = ""
    progress_bar: object = "#6206E0"
    progress_bar_finished: object = "#6206E0"
    progress_bar_pulse: object = "#6206E0"
    batch_progress: object = ""
    time: object = "dim"
    processing_speed: object = "dim underline"
    metrics: object = "italic"
    metrics_text_delimiter: str = " "
    metrics_format: str = ".3f"


class RichProgressBar(ProgressBar):
    """Progress bars drawn with ``rich`` (Lightning's ``RichProgressBar``): ``refresh_rate`` redraws per second (0
    disables), ``leave`` keeps each epoch's bar, ``theme`` a ``RichProgressBarTheme``, ``console_kwargs`` configure
    rich's console. Needs ``rich`` (``ModuleNotFoundError`` without it)."""

    def __init__(self, refresh_rate=100, leave=False, theme=RichProgressBarTheme(), console_kwargs=None):
        if importlib.util.find_spec("rich") is None:
            raise ModuleNotFoundError(
                "`RichProgressBar` requires `rich` >= 10.2.2. Install it by running `pip install -U rich`.")
        super().__init__()
        self._refresh_rate = refresh_rate
        self._leave = leave
        self._console = None
        self._console_kwargs = console_kwargs or {}
        self._enabled = True
        self.progress = None
        self._reset_progress_bar_ids()
        self._metric_component = None
        self._progress_stopped = False
        self.theme = theme

    @property
    def refresh_rate(self):
        return self._refresh_rate

    @property
    def is_enabled(self):
        return self._enabled and self.refresh_rate > 0

    @property
    def is_disabled(self):
        return not self.is_enabled

    def _task(self, task_id):
        assert self.progress is not None and task_id is not None
        return self.progress.tasks[task_id]

    train_progress_bar = property(lambda self: self._task(self.train_progress_bar_id))
    val_sanity_check_bar = property(lambda self: self._task(self.val_sanity_progress_bar_id))
    val_progress_bar = property(lambda self: self._task(self.val_progress_bar_id))
    test_progress_bar = property(lambda self: self._task(self.test_progress_bar_id))

    def disable(self):
        self._enabled = False

    def enable(self):
        self._enabled = True

    def _init_progress(self, trainer):
        if not self.is_enabled or (self.progress is not None and not self._progress_stopped):
            return
        from rich import get_console, reconfigure
        components = _components()
        self._reset_progress_bar_ids()
        reconfigure(**self._console_kwargs)
        self._console = get_console()
        if not hasattr(self._console, "_live_stack") or len(self._console._live_stack) > 0:
            self._console.clear_live()
        self._metric_component = components["MetricsTextColumn"](
            trainer, self.theme.metrics, self.theme.metrics_text_delimiter, self.theme.metrics_format)
        self.progress = components["CustomProgress"](
            *self.configure_columns(trainer), self._metric_component, auto_refresh=True,
            refresh_per_second=self.refresh_rate if self.is_enabled else 1, disable=self.is_disabled,
            console=self._console)
        self.progress.start()
        self._progress_stopped = False

    def refresh(self, hard=False):
        """Redraws now (``hard`` or in an interactive session), else at the next refresh tick."""
        if self.progress:
            if hard or _IS_INTERACTIVE:
                self.progress.refresh()
            else:
                self.progress.soft_refresh()

    def on_train_start(self, trainer, pl_module):
        self._init_progress(trainer)

    on_predict_start = on_test_start = on_validation_start = on_sanity_check_start = on_train_start

    def on_sanity_check_end(self, trainer, pl_module):
        if self.progress is not None and self.val_sanity_progress_bar_id is not None:
            self.progress.update(self.val_sanity_progress_bar_id, advance=0, visible=False)
        self.refresh()

    def on_train_epoch_start(self, trainer, pl_module):
        if self.is_disabled:
            return
        total = self.total_train_batches
        description = self._get_train_description(trainer.current_epoch)
        if self.train_progress_bar_id is not None and self._leave:
            self._stop_progress()
            self._init_progress(trainer)
        if self.progress is not None:
            if self.train_progress_bar_id is None:
                self.train_progress_bar_id = self._add_task(total, description)
            else:
                self.progress.reset(self.train_progress_bar_id, total=total, description=description, visible=True)
        self.refresh()

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        if self.is_disabled or not self.has_dataloader_changed(dataloader_idx):
            return
        if trainer.sanity_checking:
            if self.val_sanity_progress_bar_id is not None:
                self.progress.update(self.val_sanity_progress_bar_id, advance=0, visible=False)
            self.val_sanity_progress_bar_id = self._add_task(self.total_val_batches_current_dataloader,
                                                             self.sanity_check_description, visible=False)
        else:
            if self.val_progress_bar_id is not None:
                self.progress.update(self.val_progress_bar_id, advance=0, visible=False)
            self.val_progress_bar_id = self._add_task(self.total_val_batches_current_dataloader,
                                                      self.validation_description, visible=False)
        self.refresh()

    def _add_task(self, total_batches, description, visible=True):
        description = f"[{self.theme.description}]{description}" if self.theme.description else description
        return self.progress.add_task(description, total=total_batches, visible=visible)

    def _initialize_train_progress_bar_id(self):
        self.train_progress_bar_id = self._add_task(self.total_train_batches,
                                                    self._get_train_description(self.trainer.current_epoch))

    def _update(self, progress_bar_id, current, visible=True, hard=False):
        if self.progress is not None and self.is_enabled and progress_bar_id is not None:
            self.progress.update(progress_bar_id, completed=current, visible=visible)
            self.refresh(hard=hard)

    def on_validation_epoch_end(self, trainer, pl_module):
        if self.is_enabled and self.val_progress_bar_id is not None and trainer.state.fn == TrainerFn.FITTING:
            self.progress.update(self.val_progress_bar_id, advance=0, visible=False)
            self.refresh()

    def on_validation_end(self, trainer, pl_module):
        if trainer.state.fn == TrainerFn.FITTING:
            self._update_metrics(trainer, pl_module)
        self.reset_dataloader_idx_tracker()

    def on_test_end(self, trainer, pl_module):
        self.reset_dataloader_idx_tracker()

    on_predict_end = on_test_end

    def _new_eval_bar(self, attribute, total, description, dataloader_idx):
        if self.is_disabled or not self.has_dataloader_changed(dataloader_idx):
            return
        if getattr(self, attribute) is not None:
            self.progress.update(getattr(self, attribute), advance=0, visible=False)
        setattr(self, attribute, self._add_task(total(), description))
        self.refresh()

    def on_test_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        self._new_eval_bar("test_progress_bar_id", lambda: self.total_test_batches_current_dataloader,
                           self.test_description, dataloader_idx)

    def on_predict_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        self._new_eval_bar("predict_progress_bar_id", lambda: self.total_predict_batches_current_dataloader,
                           self.predict_description, dataloader_idx)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if not self.is_disabled and self.train_progress_bar_id is None:
            self._initialize_train_progress_bar_id()
        self._update(self.train_progress_bar_id, batch_idx + 1)
        self._update_metrics(trainer, pl_module)
        self.refresh()

    def on_train_epoch_end(self, trainer, pl_module):
        self._update_metrics(trainer, pl_module)
        self.refresh()

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if self.is_disabled:
            return
        if trainer.sanity_checking:
            if self.val_sanity_progress_bar_id is not None:
                self._update(self.val_sanity_progress_bar_id, batch_idx + 1)
            return
        if self.val_progress_bar_id is not None:
            self._update(self.val_progress_bar_id, batch_idx + 1)

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if not self.is_disabled and self.test_progress_bar_id is not None:
            self._update(self.test_progress_bar_id, batch_idx + 1)

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if not self.is_disabled and self.predict_progress_bar_id is not None:
            self._update(self.predict_progress_bar_id, batch_idx + 1)

    def _get_train_description(self, current_epoch):
        description = f"Epoch {current_epoch}"
        if self.trainer.max_epochs is not None:
            description += f"/{self.trainer.max_epochs - 1}"
        if len(self.validation_description) > len(description):
            description = f"{description:{len(self.validation_description)}}"
        return description

    def _stop_progress(self):
        if self.progress is not None:
            self.progress.stop()
            self._progress_stopped = True

    def _reset_progress_bar_ids(self):
        self.train_progress_bar_id = None
        self.val_sanity_progress_bar_id = None
        self.val_progress_bar_id = None
        self.test_progress_bar_id = None
        self.predict_progress_bar_id = None

    def get_metrics(self, trainer, pl_module):
        import ember
        return {name: value.item() if isinstance(value, ember.Tensor) else value
                for name, value in super().get_metrics(trainer, pl_module).items()}

    def _update_metrics(self, trainer, pl_module):
        if self.is_enabled and self._metric_component is not None:
            self._metric_component.update(self.get_metrics(trainer, pl_module))

    def teardown(self, trainer, pl_module, stage):
        self._stop_progress()

    def on_exception(self, trainer, pl_module, exception):
        self._stop_progress()

    def configure_columns(self, trainer):
        """The columns before the metrics: description, bar, batches, times, speed."""
        components = _components()
        return [components["TextColumn"]("[progress.description]{task.description}"),
                components["CustomBarColumn"](complete_style=self.theme.progress_bar,
                                              finished_style=self.theme.progress_bar_finished,
                                              pulse_style=self.theme.progress_bar_pulse),
                components["BatchesProcessedColumn"](style=self.theme.batch_progress),
                components["CustomTimeColumn"](style=self.theme.time),
                components["ProcessingSpeedColumn"](style=self.theme.processing_speed)]

    def __getstate__(self):
        state = self.__dict__.copy()
        state["progress"] = None
        state["_console"] = None
        return state
