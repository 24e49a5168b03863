"""torchaudio.functional's token spans: merging a frame-level CTC token sequence into spans of repeated
tokens (``forced_align``, torchaudio's compiled CTC Viterbi, is not ported)."""
from dataclasses import dataclass

import ember

__all__ = ["TokenSpan", "merge_tokens"]


@dataclass
class TokenSpan:
    """A token and the frames [start, end) it spans, with its mean frame score."""

    token: int
    start: int
    end: int
    score: float

    def __len__(self):
        """The number of frames."""
        return self.end - self.start


def merge_tokens(tokens, scores, blank=0):
    """The runs of equal tokens in a 1-d frame sequence as TokenSpans (blank runs dropped), each scored by the
    mean of its frames' ``scores``."""
    if tokens.ndim != 1 or scores.ndim != 1:
        raise ValueError("`tokens` and `scores` must be 1D Tensor.")
    if len(tokens) != len(scores):
        raise ValueError("`tokens` and `scores` must be the same length.")
    edge = ember.tensor([-1], device=tokens.device)
    diff = ember.diff(tokens, prepend=edge, append=edge)
    changes = ember.nonzero(diff != 0).squeeze().tolist()
    tokens = tokens.tolist()
    return [TokenSpan(token=token, start=start, end=end, score=scores[start:end].mean().item())
            for start, end in zip(changes[:-1], changes[1:]) if (token := tokens[start]) != blank]
