"""Loggers for the Trainer: CSVLogger, and the Logger base for others."""
from .csv_logs import CSVLogger
from .logger import Logger

__all__ = ["CSVLogger", "Logger"]
