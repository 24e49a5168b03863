"""Loggers for the Trainer: CSVLogger, TensorBoardLogger, and the Logger base for others."""
from .csv_logs import CSVLogger
from .logger import Logger
from .tensorboard import TensorBoardLogger

__all__ = ["CSVLogger", "Logger", "TensorBoardLogger"]
