"""Pieces the Trainer's loops use: limited and unrepeated loaders, the predict loop's state and batch indices,
checks of batch limits, which hooks a module overrides, training-step outputs, and the printed results table."""
import inspect
import os

import ember

from .callbacks import Checkpoint
from .utilities.rank_zero import rank_zero_info


def _nothing(*args, **kwargs):
    return None


def _checkpoints_last(callbacks):
    """Lightning runs checkpointing callbacks (ModelCheckpoint, every ``Checkpoint``) after all others, so they see
    what the others logged."""
    return [c for c in callbacks if not isinstance(c, Checkpoint)] + [c for c in callbacks if isinstance(c, Checkpoint)]


def _as_list(loaders):
    if loaders is None:
        return []
    return list(loaders) if isinstance(loaders, (list, tuple)) else [loaders]


def _limit(loader, limit):
    """How many batches of ``loader`` to use: an int is a count, a float a fraction of its length."""
    try:
        length = len(loader)
    except TypeError:
        length = float("inf")
    if isinstance(limit, int) and not isinstance(limit, bool):
        return min(limit, length)
    if not 0.0 <= limit <= 1.0:
        raise ValueError(f"`limit_*_batches` must be an int, or a float in [0.0, 1.0], got {limit}")
    return length if limit == 1.0 else int(length * limit)


class _Unrepeated:
    """A DistributedSampler's share without the padding repeats (Lightning's UnrepeatedDistributedSampler):
    every sample is predicted exactly once."""

    def __init__(self, sampler):
        self.sampler = sampler

    def __iter__(self):
        total = len(self.sampler.dataset)
        return (i for n, i in enumerate(self.sampler) if n * self.sampler.num_replicas + self.sampler.rank < total)

    def __len__(self):
        total, replicas, rank = len(self.sampler.dataset), self.sampler.num_replicas, self.sampler.rank
        return len(range(rank, total, replicas))


class _PredictLoop:
    """What prediction writers read from ``trainer.predict_loop``: the batch indices (dataset indices per batch) and
    the predictions kept so far (one list per dataloader)."""

    def __init__(self, num_dataloaders, return_predictions):
        self.num_dataloaders, self.return_predictions = num_dataloaders, return_predictions
        self.epoch_batch_indices = [[] for _ in range(num_dataloaders)]
        self.current_batch_indices = []
        self._predictions = [[] for _ in range(num_dataloaders)]

    @property
    def predictions(self):
        """The predictions: a list of batches, one per dataloader when there are several."""
        if self._predictions == []:
            return self._predictions
        return self._predictions[0] if self.num_dataloaders == 1 else self._predictions


class _IndexRecorder:
    """A DataLoader's batch sampler that remembers the indices of each batch it gives in this pass (Lightning's
    _IndexBatchSamplerWrapper)."""

    def __init__(self, batch_sampler):
        self._batch_sampler, self.seen_batch_indices = batch_sampler, []

    def __iter__(self):
        self.seen_batch_indices = []
        for batch in self._batch_sampler:
            self.seen_batch_indices.append(list(batch))
            yield batch

    def __len__(self):
        return len(self._batch_sampler)

    @staticmethod
    def wrap(loader):
        """``loader`` again, its batch sampler recording (loaders without one are left as they are)."""
        data = ember.utils.data
        if not isinstance(loader, data.DataLoader) or loader.batch_sampler is None:
            return loader
        return data.DataLoader(loader.dataset, batch_sampler=_IndexRecorder(loader.batch_sampler),
                               num_workers=loader.num_workers, collate_fn=loader.collate_fn,
                               pin_memory=loader.pin_memory, timeout=loader.timeout,
                               worker_init_fn=loader.worker_init_fn, generator=loader.generator,
                               prefetch_factor=loader.prefetch_factor, persistent_workers=loader.persistent_workers,
                               multiprocessing_context=loader.multiprocessing_context)

    @staticmethod
    def indices(loader):
        """The recorded batches' indices, or None where ``loader`` has no recorder."""
        sampler = getattr(loader, "batch_sampler", None)
        return sampler.seen_batch_indices if isinstance(sampler, _IndexRecorder) else None


def _whole(batches):
    """A limit or interval as Lightning keeps it: a whole-number float above 1 (``3.0``, as a config file may give it)
    counts batches, an int."""
    if isinstance(batches, float) and batches > 1 and batches % 1.0 == 0:
        return int(batches)
    return batches


def _check_batch_limit(batches, name):
    """Lightning's note on what a limit of exactly 1 or 1.0 means (set explicitly), and its error for a value that is
    neither a fraction in [0, 1] nor a whole number."""
    if batches is None or name == "val_check_interval" and not isinstance(batches, (int, float)):
        return   # a time-based val_check_interval ("HH:MM:SS", a dict, a timedelta)
    if isinstance(batches, int) and not isinstance(batches, bool) and batches == 1:
        message = {"limit_train_batches": "1 batch per epoch will be used.",
                   "val_check_interval": "validation will run after every batch."}.get(name, "1 batch will be used.")
        rank_zero_info(f"`Trainer({name}=1)` was configured so {message}")
    elif isinstance(batches, float) and batches == 1.0:
        message = {"limit_train_batches": "100% of the batches per epoch will be used.",
                   "val_check_interval": "validation will run at the end of the training epoch."}.get(
            name, "100% of the batches will be used.")
        rank_zero_info(f"`Trainer({name}=1.0)` was configured so {message}.")
    if not isinstance(batches, (int, float)) or not (0 <= batches <= 1 or batches > 1 and batches % 1.0 == 0):
        from .utilities.exceptions import MisconfigurationException
        raise MisconfigurationException(f"You have passed invalid value {batches} for {name}, it has to be in "
                                        "[0.0, 1.0] or an int.")


def _is_overridden(name, obj, parent):
    """Whether ``obj``'s ``name`` is other code than ``parent``'s (an attribute set on the instance counts), as
    Lightning's ``is_overridden`` decides."""
    attr, base = getattr(obj, name, None), getattr(parent, name, None)
    if attr is None:
        return False
    if base is None:
        return True
    return getattr(attr, "__code__", None) is not getattr(base, "__code__", None)


def _scalar(value):
    """A logged value as the progress bar holds it: a one-element tensor becomes a Python number."""
    return value.item() if isinstance(value, ember.Tensor) and value.numel() == 1 else value


def _takes_batch_idx(hook):
    """Whether Lightning passes ``batch_idx`` to a step hook: it names it, takes ``*args``, or takes two arguments."""
    try:
        spec = inspect.getfullargspec(hook)
    except TypeError:
        return True
    names = spec.args[1:]   # Lightning drops the first (``self`` of the bound method)
    return "batch_idx" in names or spec.varargs is not None or len(names) >= 2


def _training_loss(output):
    """The loss in what ``training_step`` returned under automatic optimization (None skips the step)."""
    if isinstance(output, dict):
        if output.get("loss") is None:
            raise ValueError("In automatic_optimization, when `training_step` returns a dict, the 'loss' key needs "
                             "to be present")
        output = output["loss"]
    if output is not None and not isinstance(output, ember.Tensor):
        raise ValueError("In automatic optimization, `training_step` must return a Tensor, a dict, or None (where the "
                         f"step will be skipped); got {type(output).__name__}")
    return output


def _manual_output(output):
    """What ``on_train_batch_end`` receives under manual optimization, as Lightning gives it: a dict (a Tensor
    becomes ``{"loss": ...}``, None ``{}``) whose ``"loss"`` is detached."""
    if output is None:
        return {}
    if isinstance(output, ember.Tensor):
        output = {"loss": output}
    if not isinstance(output, dict):
        raise ValueError("In manual optimization, `training_step` must either return a Tensor or have no return.")
    output = dict(output)
    if isinstance(output.get("loss"), ember.Tensor):
        output["loss"] = output["loss"].detach()
    return output


def _print_results(stage, results):
    """Prints the metrics of each dataloader as Lightning's table: one row per metric name (sorted, the dataloader
    suffix removed), one column per dataloader, as wide as the terminal (120 when unknown); drawn by rich where rich
    is installed, as Lightning does."""
    import importlib.util
    import shutil
    import sys
    results = [{name.split("/dataloader_idx_")[0]: value for name, value in result.items()} for result in results]
    names = sorted({name for result in results for name in result})
    if not names:
        return
    headers = [f"DataLoader {i}" for i in range(len(results))]
    term_size = shutil.get_terminal_size(fallback=(120, 30)).columns or 120
    width = int(min(max(len(max(names, key=len)), len(max(headers, key=len)), 25), term_size / 2))
    rows = [[f"{result[name]}" if name in result else " " for result in results] for name in names]
    num_cols = int((term_size - width) / width)
    try:
        if sys.stdout.encoding is not None:
            "─".encode(sys.stdout.encoding)
    except UnicodeEncodeError:
        bar = "-" * term_size
    else:
        bar = "─" * term_size
    half = int(term_size / 2)
    for i in range(0, len(headers), num_cols):
        table_headers = [f"{stage} Metric".capitalize(), *headers[i:i + num_cols]]
        if importlib.util.find_spec("rich") is not None:
            _print_rich_table(table_headers, names, [row[i:i + num_cols] for row in rows], width)
            continue
        row_format = f"{{:^{width}}}" * len(table_headers)
        lines = [bar, row_format.format(*table_headers).rstrip(), bar]
        for name, row in zip(names, rows):
            row = row[i:i + num_cols]
            if len(name) > half:   # a long name wraps, its values repeated on each piece
                while len(name) > half:
                    lines.append(row_format.format(name[:half], *row).rstrip())
                    name = name[half:]
                lines.append(row_format.format(name, " ").rstrip())
            else:
                lines.append(row_format.format(name, *row).rstrip())
        lines.append(bar)
        print(os.linesep.join(lines))


def _print_rich_table(headers, names, rows, width):
    """One results table drawn by rich: centred columns of ``width``, the metric names in cyan, the values magenta."""
    from rich import get_console
    from rich.table import Column, Table
    columns = [Column(header, justify="center", style="magenta", width=width) for header in headers]
    columns[0].style = "cyan"
    table = Table(*columns)
    for name, row in zip(names, rows):
        table.add_row(name, *row)
    get_console().print(table)
