"""``ember.text.vocab``: Vocab, its factories and pretrained word vectors (torchtext.vocab)."""
from .vectors import FastText, GloVe, Vectors
from .vocab import Vocab
from .vocab_factory import build_vocab_from_iterator, vocab

__all__ = ["Vocab", "vocab", "build_vocab_from_iterator", "Vectors", "GloVe", "FastText"]
