"""``ember.text.data``: tokenizers and text utilities (torchtext.data)."""
from . import utils  # noqa: F401
from .utils import get_tokenizer, ngrams_iterator  # noqa: F401
