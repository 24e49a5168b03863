"""``ember.text``: torchtext's role — tokenizers, vocabularies, word vectors, transforms and datasets — on ember's
public API."""
from . import data, datasets, functional, transforms, vocab  # noqa: F401
