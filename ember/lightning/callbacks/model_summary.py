"""ModelSummary: logs the model's summary table (``utilities.model_summary``) when fitting starts."""
import logging

from .callback import Callback

log = logging.getLogger(__name__)


class ModelSummary(Callback):
    """Logs the summary of the LightningModule's layers down to ``max_depth`` (0: none) at the start of fit."""

    def __init__(self, max_depth=1, **summarize_kwargs):
        self._max_depth = max_depth
        self._summarize_kwargs = summarize_kwargs

    @property
    def max_depth(self):
        return self._max_depth

    def on_fit_start(self, trainer, pl_module):
        if not self._max_depth:
            return
        from ..utilities.model_summary import summarize
        summary = summarize(pl_module, max_depth=self._max_depth)
        if trainer.is_global_zero:
            log.info("\n" + str(summary))
