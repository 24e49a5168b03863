"""torchtext.data.functional: iterable-to-map-style datasets and line pipelines (regex replacement, whitespace
splitting, numericalizing with a vocab), and SentencePiece helpers (through the sentencepiece package)."""
import re

from ember.utils.data import Dataset

__all__ = ["to_map_style_dataset", "custom_replace", "simple_space_split", "numericalize_tokens_from_iterator",
           "generate_sp_model", "load_sp_model", "sentencepiece_numericalizer", "sentencepiece_tokenizer"]


class _MapStyleDataset(Dataset):
    """Every item of an iterable, held in a list."""

    def __init__(self, iter_data):
        self._data = list(iter_data)

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        return self._data[idx]


def to_map_style_dataset(iter_data):
    """A map-style Dataset of an iterable dataset's items (read once, kept in memory)."""
    return _MapStyleDataset(iter_data)


def custom_replace(replace_pattern):
    """A generator function over lines applying each (regex, replacement) of ``replace_pattern`` in order."""
    patterns = [(re.compile(pattern), replacement) for pattern, replacement in replace_pattern]

    def _internal_func(txt_iter):
        for line in txt_iter:
            for pattern, replacement in patterns:
                line = pattern.sub(replacement, line)
            yield line
    return _internal_func


def simple_space_split(iterator):
    """Each line split on whitespace."""
    for line in iterator:
        yield line.split()


def numericalize_tokens_from_iterator(vocab, iterator, removed_tokens=None):
    """For each list of tokens, an iterator over their ids in ``vocab`` (``removed_tokens`` skipped)."""
    for tokens in iterator:
        if removed_tokens is None:
            yield iter(vocab[token] for token in tokens)
        else:
            yield iter(vocab[token] for token in tokens if token not in removed_tokens)


def generate_sp_model(filename, vocab_size=20000, model_type="unigram", model_prefix="m_user"):
    """Trains a SentencePiece model on ``filename``, saving ``model_prefix``.model and .vocab."""
    import sentencepiece
    sentencepiece.SentencePieceTrainer.train(f"--input={filename} --vocab_size={vocab_size} "
                                             f"--model_prefix={model_prefix} --model_type={model_type}")


def load_sp_model(spm):
    """A SentencePieceProcessor loaded from a path or an open file of a serialized model."""
    import sentencepiece
    processor = sentencepiece.SentencePieceProcessor()
    if isinstance(spm, str):
        processor.Load(spm)
    else:
        processor.LoadFromSerializedProto(spm.read())
    return processor


def sentencepiece_numericalizer(sp_model):
    """A generator function from lines to their SentencePiece ids."""
    def _internal_func(txt_iter):
        for line in txt_iter:
            yield sp_model.EncodeAsIds(line)
    return _internal_func


def sentencepiece_tokenizer(sp_model):
    """A generator function from lines to their SentencePiece pieces."""
    def _internal_func(txt_iter):
        for line in txt_iter:
            yield sp_model.EncodeAsPieces(line)
    return _internal_func
