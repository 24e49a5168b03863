"""Building a Vocab from token counts or an iterator of token lists (torchtext.vocab's factories)."""
from collections import Counter, OrderedDict

from .vocab import Vocab

__all__ = ["vocab", "build_vocab_from_iterator"]


def vocab(ordered_dict, min_freq=1, specials=None, special_first=True):
    """A Vocab of the tokens of ``ordered_dict`` (token -> count) seen at least ``min_freq`` times, in the dict's
    order, with ``specials`` placed first (or last)."""
    specials = specials or []
    for token in specials:
        ordered_dict.pop(token, None)
    tokens = [token for token, freq in ordered_dict.items() if freq >= min_freq]
    tokens = specials + tokens if special_first else tokens + specials
    return Vocab(tokens)


def build_vocab_from_iterator(iterator, min_freq=1, specials=None, special_first=True, max_tokens=None):
    """A Vocab of the tokens an iterator of token lists yields, most frequent first, ties in lexicographic order
    (torchtext's ordering); ``max_tokens`` caps the size including the specials."""
    counter = Counter()
    for tokens in iterator:
        counter.update(tokens)
    specials = specials or []
    by_frequency = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    if max_tokens is not None:
        if len(specials) >= max_tokens:
            raise AssertionError("len(specials) >= max_tokens, so the vocab will be entirely special tokens.")
        by_frequency = by_frequency[:max_tokens - len(specials)]
    return vocab(OrderedDict(by_frequency), min_freq=min_freq, specials=specials, special_first=special_first)
