"""``ember.text.data``: tokenizers, text utilities and dataset helpers (torchtext.data)."""
from . import functional, metrics, utils  # noqa: F401
from .functional import (custom_replace, generate_sp_model, load_sp_model, numericalize_tokens_from_iterator,  # noqa: F401
                         sentencepiece_numericalizer, sentencepiece_tokenizer, simple_space_split,
                         to_map_style_dataset)
from .metrics import bleu_score  # noqa: F401
from .utils import get_tokenizer, ngrams_iterator  # noqa: F401
