"""torchtext.data.metrics: corpus BLEU (Papineni et al. 2002) with clipped n-gram counts and the brevity
penalty against the closest reference length."""
import collections
import math

import ember

from .utils import ngrams_iterator

__all__ = ["bleu_score"]


def _compute_ngram_counter(tokens, max_n):
    """The counts of the 1- to max_n-grams of ``tokens``, each n-gram a tuple."""
    assert max_n > 0
    return collections.Counter(tuple(x.split(" ")) for x in ngrams_iterator(tokens, max_n))


def bleu_score(candidate_corpus, references_corpus, max_n=4, weights=[0.25] * 4):
    """Corpus BLEU of tokenized candidates against lists of tokenized references: the weighted geometric mean of
    the clipped n-gram precisions (float32, as torchtext's) times the brevity penalty; 0.0 when some order has
    no match."""
    assert max_n == len(weights), 'Length of the "weights" list has be equal to max_n'
    assert len(candidate_corpus) == len(references_corpus), \
        "The length of candidate and reference corpus should be the same"
    clipped_counts = ember.zeros(max_n)
    total_counts = ember.zeros(max_n)
    weights = ember.tensor(weights)
    candidate_len = refs_len = 0.0
    for candidate, refs in zip(candidate_corpus, references_corpus):
        candidate_len += len(candidate)
        refs_len += min((float(len(ref)) for ref in refs), key=lambda length: abs(len(candidate) - length))
        reference_counters = _compute_ngram_counter(refs[0], max_n)
        for ref in refs[1:]:
            reference_counters = reference_counters | _compute_ngram_counter(ref, max_n)
        candidate_counter = _compute_ngram_counter(candidate, max_n)
        for ngram, count in (candidate_counter & reference_counters).items():
            clipped_counts[len(ngram) - 1] += count
        for ngram, count in candidate_counter.items():
            total_counts[len(ngram) - 1] += count
    if min(clipped_counts) == 0:
        return 0.0
    log_pn = weights * ember.log(clipped_counts / total_counts)
    score = ember.exp(sum(log_pn))
    return math.exp(min(1 - refs_len / candidate_len, 0)) * score.item()
