"""Tokenizers and n-grams with torchtext's names and exact behaviour."""
import re
from functools import partial

__all__ = ["get_tokenizer", "ngrams_iterator"]

# torchtext's basic_english normalization: lower-case, then these substitutions in order, then split on spaces
_PATTERNS = [(re.compile(pattern), replacement) for pattern, replacement in (
    (r"\'", " '  "), (r"\"", ""), (r"\.", " . "), (r"<br \/>", " "), (r",", " , "), (r"\(", " ( "), (r"\)", " ) "),
    (r"\!", " ! "), (r"\?", " ? "), (r"\;", " "), (r"\:", " "), (r"\s+", " "))]


def _split_tokenizer(x):
    return x.split()


def _basic_english_normalize(line):
    line = line.lower()
    for pattern, replacement in _PATTERNS:
        line = pattern.sub(replacement, line)
    return line.split()


def _spacy_tokenize(x, spacy):
    return [token.text for token in spacy.tokenizer(x)]


def get_tokenizer(tokenizer, language="en"):
    """A function from a string to its tokens: ``None`` splits on whitespace, "basic_english" lower-cases and
    separates punctuation, a callable is returned as is, "spacy" / "moses" / "toktok" / "revtok" / "subword" use
    those libraries when installed."""
    if tokenizer is None:
        return _split_tokenizer
    if tokenizer == "basic_english":
        if language != "en":
            raise ValueError("Basic normalization is only available for Enlish(en)")
        return _basic_english_normalize
    if callable(tokenizer):
        return tokenizer
    if tokenizer == "spacy":
        import spacy
        return partial(_spacy_tokenize, spacy=spacy.load(language))
    if tokenizer == "moses":
        from sacremoses import MosesTokenizer
        return MosesTokenizer().tokenize
    if tokenizer == "toktok":
        from nltk.tokenize.toktok import ToktokTokenizer
        return ToktokTokenizer().tokenize
    if tokenizer in ("revtok", "subword"):
        import revtok
        return revtok.tokenize if tokenizer == "revtok" else partial(revtok.tokenize, decap=True)
    raise ValueError(f"Requested tokenizer {tokenizer}, valid choices are a callable that takes a single string as "
                     'input, "revtok" for the revtok reversible tokenizer, "subword" for the revtok caps-aware '
                     'tokenizer, "spacy" for the SpaCy English tokenizer, or "moses" for the NLTK port of the Moses '
                     "tokenization script.")


def ngrams_iterator(token_list, ngrams):
    """The tokens, then every run of 2, ..., ``ngrams`` consecutive tokens joined by spaces."""
    yield from token_list
    for n in range(2, ngrams + 1):
        for gram in zip(*[token_list[i:] for i in range(n)]):
            yield " ".join(gram)
