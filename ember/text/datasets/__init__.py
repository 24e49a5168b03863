"""``ember.text.datasets``: torchtext's datasets as iterables of the same items, read from local files (downloaded
from their canonical URLs with MD5 checks when missing)."""
from .language_modeling import PennTreebank, WikiText2
from .text_classification import AG_NEWS, IMDB

__all__ = ["AG_NEWS", "IMDB", "WikiText2", "PennTreebank"]
