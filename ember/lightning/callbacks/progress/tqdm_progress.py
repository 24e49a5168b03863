"""``TQDMProgressBar``, Lightning's default: tqdm bars on stdout for the sanity check, training (one bar reset each
epoch, with the ``prog_bar`` metrics and ``v_num``), validation, test and prediction."""
import functools
import math
import sys

from ...trainer.states import TrainerFn
from .progress_bar import ProgressBar

_PAD_SIZE = 5


@functools.cache
def _tqdm_class():
    from tqdm import tqdm

    class Tqdm(tqdm):
        """tqdm whose numbers are padded with zeros to five characters, so the bar does not flicker."""

        @staticmethod
        def format_num(n):
            padded = isinstance(n, (float, str))
            if not isinstance(n, str):
                n = tqdm.format_num(n)
            if padded and "e" not in n:
                if "." not in n and len(n) < _PAD_SIZE:
                    try:
                        float(n)
                    except ValueError:
                        return n
                    n += "."
                n += "0" * (_PAD_SIZE - len(n))
            return n

    return Tqdm


def __getattr__(name):   # Lightning's Tqdm class, made on first use: tqdm is an optional extra here
    if name == "Tqdm":
        return _tqdm_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _convert_inf(x):
    return None if x is None or math.isinf(x) or math.isnan(x) else x


def _update_n(bar, value):
    if not bar.disable:
        bar.n = value
        bar.refresh()


class TQDMProgressBar(ProgressBar):
    """Lightning's default progress bar (tqdm, an optional extra: without it no bar is shown)."""

    BAR_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_noinv_fmt}{postfix}]"

    def __init__(self, refresh_rate=1, process_position=0, leave=False):
        super().__init__()
        self._refresh_rate = refresh_rate
        self._process_position = process_position
        self._enabled = True
        self._leave = leave
        self._train_progress_bar = self._val_progress_bar = None
        self._test_progress_bar = self._predict_progress_bar = None

    def __getstate__(self):
        return {k: v if not hasattr(v, "refresh") else None for k, v in vars(self).items()}

    def _bar(name):
        def get(self):
            bar = getattr(self, f"_{name}")
            if bar is None:
                raise TypeError(f"The `{self.__class__.__name__}._{name}` reference has not been set yet.")
            return bar

        def set_(self, bar):
            setattr(self, f"_{name}", bar)
        return property(get, set_)

    train_progress_bar = _bar("train_progress_bar")
    val_progress_bar = _bar("val_progress_bar")
    test_progress_bar = _bar("test_progress_bar")
    predict_progress_bar = _bar("predict_progress_bar")
    del _bar

    @property
    def refresh_rate(self):
        return self._refresh_rate

    @property
    def process_position(self):
        return self._process_position

    @property
    def is_enabled(self):
        return self._enabled and self.refresh_rate > 0 and _tqdm_available()

    @property
    def is_disabled(self):
        return not self.is_enabled

    def disable(self):
        self._enabled = False

    def enable(self):
        self._enabled = True

    def _new(self, desc, position, leave, **kwargs):
        if not _tqdm_available():
            return _NoBar()
        return _tqdm_class()(desc=desc, position=position, disable=self.is_disabled, leave=leave, dynamic_ncols=True,
                             file=sys.stdout, bar_format=self.BAR_FORMAT, **kwargs)

    def init_sanity_tqdm(self):
        """The bar of the sanity check."""
        return self._new(self.sanity_check_description, 2 * self.process_position, False)

    def init_train_tqdm(self):
        """The training bar."""
        return self._new(self.train_description, 2 * self.process_position, True, smoothing=0)

    def init_predict_tqdm(self):
        """The prediction bar."""
        return self._new(self.predict_description, 2 * self.process_position, True, smoothing=0)

    def init_validation_tqdm(self):
        """The validation bar (below the training bar during fit)."""
        has_main_bar = self.trainer.state.fn != TrainerFn.VALIDATING
        return self._new(self.validation_description, 2 * self.process_position + has_main_bar, not has_main_bar)

    def init_test_tqdm(self):
        """The test bar."""
        return self._new("Testing", 2 * self.process_position, True)

    def on_sanity_check_start(self, *_):
        self.val_progress_bar = self.init_sanity_tqdm()
        self.train_progress_bar = _NoBar() if not _tqdm_available() else _tqdm_class()(disable=True)

    def on_sanity_check_end(self, *_):
        self.val_progress_bar.close()
        self.train_progress_bar.close()

    def on_train_start(self, *_):
        self.train_progress_bar = self.init_train_tqdm()

    def on_train_epoch_start(self, trainer, *_):
        if self._leave:
            self.train_progress_bar = self.init_train_tqdm()
        self.train_progress_bar.reset()
        self.train_progress_bar.total = _convert_inf(self.total_train_batches)
        self.train_progress_bar.initial = 0
        self.train_progress_bar.set_description(f"Epoch {trainer.current_epoch}")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        n = batch_idx + 1
        if self._train_progress_bar is not None and self._should_update(n, self.train_progress_bar.total):
            _update_n(self.train_progress_bar, n)
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module))

    def on_train_epoch_end(self, trainer, pl_module):
        if not self.train_progress_bar.disable:
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module))
        if self._leave:
            self.train_progress_bar.close()

    def on_train_end(self, *_):
        self.train_progress_bar.close()

    def on_validation_start(self, trainer, pl_module):
        if not trainer.sanity_checking:
            self.val_progress_bar = self.init_validation_tqdm()

    def _eval_batch_start(self, bar, total, description, dataloader_idx):
        """A new dataloader restarts ``bar`` at 0 of its ``total`` (the name of the property that counts it)."""
        if not self.has_dataloader_changed(dataloader_idx):
            return
        bar.reset()
        bar.total = _convert_inf(getattr(self, total))
        bar.initial = 0
        bar.set_description(f"{description} DataLoader {dataloader_idx}")

    def _eval_batch_end(self, bar, batch_idx):
        n = batch_idx + 1
        if bar is not None and self._should_update(n, bar.total):
            _update_n(bar, n)

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        description = self.sanity_check_description if trainer.sanity_checking else self.validation_description
        self._eval_batch_start(self.val_progress_bar, "total_val_batches_current_dataloader", description,
                               dataloader_idx)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self._eval_batch_end(self._val_progress_bar, batch_idx)

    def on_validation_end(self, trainer, pl_module):
        self.val_progress_bar.close()
        self.reset_dataloader_idx_tracker()
        if self._train_progress_bar is not None and trainer.state.fn == TrainerFn.FITTING:
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module))

    def on_test_start(self, trainer, pl_module):
        self.test_progress_bar = self.init_test_tqdm()

    def on_test_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        self._eval_batch_start(self.test_progress_bar, "total_test_batches_current_dataloader",
                               self.test_description, dataloader_idx)

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self._eval_batch_end(self._test_progress_bar, batch_idx)

    def on_test_end(self, trainer, pl_module):
        self.test_progress_bar.close()
        self.reset_dataloader_idx_tracker()

    def on_predict_start(self, trainer, pl_module):
        self.predict_progress_bar = self.init_predict_tqdm()

    def on_predict_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        self._eval_batch_start(self.predict_progress_bar, "total_predict_batches_current_dataloader",
                               self.predict_description, dataloader_idx)

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self._eval_batch_end(self._predict_progress_bar, batch_idx)

    def on_predict_end(self, trainer, pl_module):
        self.predict_progress_bar.close()
        self.reset_dataloader_idx_tracker()

    def print(self, *args, sep=" ", **kwargs):
        """Prints through the active bar (``tqdm.write``), so the bar is redrawn below the text."""
        for bar in (self._train_progress_bar, self._val_progress_bar, self._test_progress_bar,
                    self._predict_progress_bar):
            if bar is not None and not bar.disable:
                bar.write(sep.join(map(str, args)), **kwargs)
                return

    def _should_update(self, current, total):
        return self.is_enabled and (current % self.refresh_rate == 0 or current == total)


def _tqdm_available():
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


class _NoBar:
    """Stands in for a tqdm bar where tqdm is not installed."""

    disable = True
    total = n = initial = None

    def __getattr__(self, name):
        return lambda *args, **kwargs: None

