"""Progress bars, in Lightning's modules: ``ProgressBar`` (the base), ``TQDMProgressBar`` (the default, tqdm) and
``RichProgressBar`` (rich, imported only when one is made)."""
from .progress_bar import ProgressBar, get_standard_metrics
from .rich_progress import RichProgressBar, RichProgressBarTheme
from .tqdm_progress import TQDMProgressBar

__all__ = ["ProgressBar", "RichProgressBar", "RichProgressBarTheme", "TQDMProgressBar", "get_standard_metrics"]
