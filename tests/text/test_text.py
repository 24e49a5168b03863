"""ember.text against torchtext 0.18's documented behaviour, in tables of known inputs and outputs: tokenizers,
n-grams, Vocab and its factories, word vectors, transforms, functional and the datasets on files the tests write."""
import csv
import hashlib
import math
import os
import subprocess
import sys
import zipfile
from collections import Counter, OrderedDict

import numpy
import pytest

import ember
from ember.text import datasets, functional, transforms
from ember.text.data.utils import get_tokenizer, ngrams_iterator
from ember.text.vocab import FastText, GloVe, Vectors, Vocab, build_vocab_from_iterator, vocab

BASIC_ENGLISH = [   # torchtext's own test sample and docstring example
    ("'\".<br />,()!?;:   Basic English Normalization for a Line of Text   '\".<br />,()!?;:",
     ["'", ".", ",", "(", ")", "!", "?", "basic", "english", "normalization", "for", "a", "line", "of", "text", "'",
      ".", ",", "(", ")", "!", "?"]),
    ("You can now install TorchText using pip!", ["you", "can", "now", "install", "torchtext", "using", "pip", "!"]),
    ("It's 3:30; ok?", ["it", "'", "s", "3", "30", "ok", "?"]),
    ("Tab\tand\nnewline  spaces", ["tab", "and", "newline", "spaces"]),
    ("", []),
]


@pytest.mark.parametrize("line,tokens", BASIC_ENGLISH)
def test_basic_english_matches_torchtext(line, tokens):
    assert get_tokenizer("basic_english")(line) == tokens


def test_other_tokenizers():
    assert get_tokenizer(None)(" a  b\tc ") == ["a", "b", "c"]
    upper = str.upper
    assert get_tokenizer(upper) is upper
    with pytest.raises(ValueError, match="only available for Enlish"):
        get_tokenizer("basic_english", language="de")
    with pytest.raises(ValueError, match="valid choices"):
        get_tokenizer("nonsense")


def test_ngrams_iterator():
    assert list(ngrams_iterator(["here", "we", "are"], 2)) == ["here", "we", "are", "here we", "we are"]
    assert list(ngrams_iterator(["a", "b", "c"], 3)) == ["a", "b", "c", "a b", "b c", "a b c"]
    assert list(ngrams_iterator(["a"], 1)) == ["a"]


# --- vocab ------------------------------------------------------------------------------------------------------

def test_vocab_factory_keeps_dict_order_min_freq_and_specials():
    counter = Counter(["a", "a", "b", "b", "b"])
    v1 = vocab(OrderedDict(sorted(counter.items(), key=lambda x: x[1], reverse=True)))
    assert v1["a"] == 1 and v1["b"] == 0
    with pytest.raises(RuntimeError, match="default index is not set"):
        v1["out of vocab"]
    v2 = vocab(OrderedDict([(token, 1) for token in ["e", "d", "c", "b", "a"]]), specials=["<unk>"])
    v2.set_default_index(-1)
    assert v2["<unk>"] == 0 and v2["out of vocab"] == -1 and v2.get_default_index() == -1
    v3 = vocab(OrderedDict([("x", 3), ("<pad>", 9), ("y", 1), ("z", 2)]), min_freq=2, specials=["<pad>", "<unk>"],
               special_first=False)
    assert v3.get_itos() == ["x", "z", "<pad>", "<unk>"]


def test_build_vocab_from_iterator_orders_by_frequency_then_token():
    lines = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat", "the"]]
    v = build_vocab_from_iterator(iter(lines), specials=["<unk>", "<pad>"])
    assert v.get_itos() == ["<unk>", "<pad>", "the", "cat", "sat", "a", "dog"]
    assert build_vocab_from_iterator(lines, min_freq=2).get_itos() == ["the", "cat", "sat"]
    assert build_vocab_from_iterator(lines, specials=["<unk>"], special_first=False, max_tokens=3).get_itos() == [
        "the", "cat", "<unk>"]
    with pytest.raises(AssertionError, match="entirely special"):
        build_vocab_from_iterator(lines, specials=["<unk>"], max_tokens=1)


def test_vocab_lookups_and_edits():
    v = Vocab(["a", "b", "c"])
    assert len(v) == 3 and "b" in v and "z" not in v
    assert v(["c", "a"]) == v.lookup_indices(["c", "a"]) == [2, 0] and v.forward(["b"]) == [1]
    assert v.lookup_token(1) == "b" and v.lookup_tokens([2, 0]) == ["c", "a"]
    assert v.get_stoi() == {"a": 0, "b": 1, "c": 2} and v.get_itos() == ["a", "b", "c"]
    v.insert_token("<unk>", 0)
    v.set_default_index(v["<unk>"])
    v.append_token("d")
    assert v.get_itos() == ["<unk>", "a", "b", "c", "d"] and v["a"] == 1 and v["missing"] == 0
    for call, match in [(lambda: v.insert_token("a", 0), "already exists"), (lambda: v.append_token("d"),
                        "already exists"), (lambda: v.insert_token("q", 9), "out of bounds"),
                        (lambda: v.lookup_token(5), "out of bounds"), (lambda: Vocab(["x", "x"]), "Duplicate")]:
        with pytest.raises(RuntimeError, match=match):
            call()


def test_vocab_saves_and_loads_with_ember(tmp_path):
    v = build_vocab_from_iterator([["x", "y", "y"]], specials=["<unk>"])
    v.set_default_index(0)
    ember.save(v, tmp_path / "vocab.pt")
    loaded = ember.load(tmp_path / "vocab.pt", weights_only=False)
    assert loaded.get_itos() == ["<unk>", "y", "x"] and loaded["never"] == 0


# --- vectors ------------------------------------------------------------------------------------------------------

def _write_vectors(path, header=False):
    rows = {"the": [0.1, 0.2, 0.3], "Cat": [1.0, -1.0, 0.5], "sat": [0.0, 2.0, -2.0]}
    with open(path, "w", encoding="utf8") as f:
        if header:
            f.write(f"{len(rows)} 3\n")
        for word, values in rows.items():
            f.write(word + " " + " ".join(str(v) for v in values) + "\n")
    return rows


@pytest.mark.parametrize("header", [False, True], ids=["glove", "vec"])
def test_vectors_read_text_formats_and_cache(tmp_path, header):
    path = tmp_path / "words.txt"
    rows = _write_vectors(path, header)
    vectors = Vectors(str(path), cache=tmp_path / "cache")
    assert vectors.itos == list(rows) and vectors.dim == 3 and len(vectors) == 3 and "sat" in vectors
    numpy.testing.assert_allclose(vectors["Cat"].numpy(), rows["Cat"])
    numpy.testing.assert_array_equal(vectors["dog"].numpy(), numpy.zeros(3))
    stacked = vectors.get_vecs_by_tokens(["sat", "cat"], lower_case_backup=True)
    numpy.testing.assert_allclose(stacked.numpy(), [rows["sat"], [0, 0, 0]])
    numpy.testing.assert_allclose(vectors.get_vecs_by_tokens(["CAT"], lower_case_backup=False).numpy(), [[0, 0, 0]])
    numpy.testing.assert_allclose(vectors.get_vecs_by_tokens("the").numpy(), rows["the"], rtol=1e-6)
    assert (tmp_path / "cache" / "words.txt.pt").is_file()
    path.unlink()   # the .pt cache serves from now on
    cached = Vectors("words.txt", cache=tmp_path / "cache", unk_init=lambda t: t.fill_(7.0))
    numpy.testing.assert_allclose(cached["sat"].numpy(), rows["sat"])
    numpy.testing.assert_array_equal(cached["unknown"].numpy(), [7.0, 7.0, 7.0])


def test_vectors_max_vectors_and_dimension_errors(tmp_path):
    path = tmp_path / "words.txt"
    _write_vectors(path)
    limited = Vectors(str(path), cache=tmp_path, max_vectors=2)
    assert limited.itos == ["the", "Cat"] and (tmp_path / "words.txt_2.pt").is_file()
    with open(path, "a") as f:
        f.write("bad 1.0 2.0\n")
    with pytest.raises(RuntimeError, match="dimensions"):
        Vectors(str(path), cache=tmp_path / "other")


def test_glove_and_fasttext_read_their_files_from_the_cache(tmp_path):
    _write_vectors(tmp_path / "glove.6B.3d.txt")
    glove = GloVe(name="6B", dim=3, cache=tmp_path)
    assert glove.itos[0] == "the" and glove.dim == 3
    assert GloVe.url["6B"] == "http://nlp.stanford.edu/data/glove.6B.zip"
    _write_vectors(tmp_path / "wiki.en.vec", header=True)
    fasttext = FastText(cache=tmp_path)
    assert fasttext.itos == ["the", "Cat", "sat"]


def test_vectors_download_and_extract_a_zip(tmp_path):
    _write_vectors(tmp_path / "glove.tiny.3d.txt")
    with zipfile.ZipFile(tmp_path / "glove.tiny.zip", "w") as archive:
        archive.write(tmp_path / "glove.tiny.3d.txt", "glove.tiny.3d.txt")
    vectors = Vectors("glove.tiny.3d.txt", cache=tmp_path / "cache", url=(tmp_path / "glove.tiny.zip").as_uri())
    assert vectors.itos == ["the", "Cat", "sat"]


# --- transforms and functional --------------------------------------------------------------------------------

def test_functional_known_values():
    assert functional.to_tensor([1, 2, 3]).tolist() == [1, 2, 3]
    assert functional.to_tensor([1, 2]).dtype == ember.int64
    padded = functional.to_tensor([[1, 2, 3], [4]], padding_value=0)
    assert padded.tolist() == [[1, 2, 3], [4, 0, 0]]
    assert functional.to_tensor([[1, 2], [3, 4]], dtype=ember.int32).dtype == ember.int32
    assert functional.truncate([1, 2, 3], 2) == [1, 2] and functional.truncate([["a", "b", "c"], ["d"]], 2) == [
        ["a", "b"], ["d"]]
    assert functional.add_token([1, 2], 0) == [0, 1, 2] and functional.add_token([[1], [2, 3]], 9, begin=False) == [
        [1, 9], [2, 3, 9]]
    assert functional.add_token(["a"], "<bos>") == ["<bos>", "a"]
    for call in (lambda: functional.to_tensor("x"), lambda: functional.truncate(3, 1),
                 lambda: functional.add_token({1}, 0)):
        with pytest.raises(TypeError, match="not supported"):
            call()


def test_data_functional_pipelines_and_map_style_datasets():
    from ember.text.data import functional as data_functional
    from ember.text.data import to_map_style_dataset
    items = ((label, f"text {label}") for label in range(5))   # a one-pass iterable, like an iterable dataset
    mapped = to_map_style_dataset(items)
    assert isinstance(mapped, ember.utils.data.Dataset) and len(mapped) == 5 and mapped[3] == (3, "text 3")
    train, valid = ember.utils.data.random_split(mapped, [4, 1], generator=ember.Generator().manual_seed(0))
    assert sorted([item[0] for item in train] + [item[0] for item in valid]) == [0, 1, 2, 3, 4]
    replace = data_functional.custom_replace([(r"<.*?>", ""), (r"\s+", " ")])
    assert list(replace(["a <b>bold</b>   word", "x\ty"])) == ["a bold word", "x y"]
    assert list(data_functional.simple_space_split(["a b  c", " d "])) == [["a", "b", "c"], ["d"]]
    v = Vocab(["<unk>", "a", "b"])
    v.set_default_index(0)
    ids = data_functional.numericalize_tokens_from_iterator(v, [["a", "b", "z"], ["b", "<unk>"]], ["<unk>"])
    assert [list(line) for line in ids] == [[1, 2, 0], [2]]


def test_bleu_score_matches_torchtexts_documented_values():
    from ember.text.data.metrics import bleu_score
    candidates = [["My", "full", "pytorch", "test"], ["Another", "Sentence"]]
    references = [[["My", "full", "pytorch", "test"], ["Completely", "Different"]], [["No", "Match"]]]
    # torchtext's docstring: 0.8408964276313782 (float32 precisions; (2/3 * 3/4) ** (1/4) exactly)
    assert bleu_score(candidates, references) == pytest.approx(0.8408964276313782, rel=1e-6)
    assert bleu_score(candidates, references, max_n=2, weights=[0.5, 0.5]) == pytest.approx(
        math.sqrt(4 / 6 * 3 / 4), rel=1e-6)
    # the brevity penalty: a short candidate against its closest reference length
    short = bleu_score([["the", "cat", "sat"]], [[["the", "cat", "sat", "on", "a", "mat"], list("abcde")]],
                       max_n=2, weights=[0.5, 0.5])
    assert short == pytest.approx(math.exp(1 - 5 / 3), rel=1e-6)
    assert bleu_score([["a", "b"]], [[["c", "d"]]]) == 0.0
    with pytest.raises(AssertionError, match="has be equal to max_n"):
        bleu_score(candidates, references, max_n=3)


def test_str_to_int_and_regex_tokenizer():
    assert transforms.StrToIntTransform()(["1", "20", "-3"]) == [1, 20, -3]
    assert functional.str_to_int([["4", "5"], ["6"]]) == [[4, 5], [6]]
    with pytest.raises(TypeError, match="Input type not supported"):
        functional.str_to_int([1, 2])
    tokenizer = transforms.RegexTokenizer([(r"\'", " '  "), (r"\"", ""), (r"([.,!?])", r" \1 ")])
    assert tokenizer("Basic Regex Tokenization for a Line of Text.") == ["Basic", "Regex", "Tokenization", "for", "a",
                                                                         "Line", "of", "Text", "."]
    assert tokenizer(['He said "hi", then left!', "it's\tok"]) == [["He", "said", "hi", ",", "then", "left", "!"],
                                                                   ["it", "'", "s\tok"]]


def test_transform_pipeline():
    v = build_vocab_from_iterator([["hello", "world", "hello"]], specials=["<pad>", "<bos>", "<unk>"])
    v.set_default_index(v["<unk>"])
    pipeline = transforms.Sequential(transforms.VocabTransform(v), transforms.Truncate(3),
                                     transforms.AddToken(v["<bos>"], begin=True),
                                     transforms.ToTensor(padding_value=v["<pad>"]))
    out = pipeline([["hello", "world", "hello", "world"], ["unknown"]])
    assert out.tolist() == [[1, 3, 4, 3], [1, 2, 0, 0]]
    assert transforms.VocabTransform(v)(["world"]) == [4]
    padded = transforms.PadTransform(max_length=5, pad_value=-1)(ember.tensor([[1, 2], [3, 4]]))
    assert padded.tolist() == [[1, 2, -1, -1, -1], [3, 4, -1, -1, -1]]
    assert transforms.PadTransform(1, 0)(ember.tensor([1, 2])).tolist() == [1, 2]
    assert transforms.AddToken("<eos>", begin=False)(["a"]) == ["a", "<eos>"]


def test_label_to_index(tmp_path):
    labels = transforms.LabelToIndex(label_names=["pos", "neg"], sort_names=True)
    assert labels.label_names == ["neg", "pos"] and labels("pos") == 1 and labels(["pos", "neg"]) == [1, 0]
    (tmp_path / "labels.txt").write_text("world\nsports\n")
    assert transforms.LabelToIndex(label_path=tmp_path / "labels.txt")("sports") == 1
    with pytest.raises(AssertionError, match="required"):
        transforms.LabelToIndex()
    with pytest.raises(AssertionError, match="mutually exclusive"):
        transforms.LabelToIndex(["a"], label_path=tmp_path / "labels.txt")


# --- datasets -------------------------------------------------------------------------------------------------

def test_ag_news_reads_csv_rows(tmp_path):
    folder = tmp_path / "AG_NEWS"
    folder.mkdir()
    rows = [["3", "Wall St. Bears Claw Back", "Reuters - Short-sellers, \"quoted\""], ["4", "Title", "Body, text"]]
    with open(folder / "test.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f, quoting=csv.QUOTE_ALL).writerows(rows)
    test = datasets.AG_NEWS(root=tmp_path, split="test")
    assert list(test) == [(3, "Wall St. Bears Claw Back Reuters - Short-sellers, \"quoted\""), (4, "Title Body, text")]
    assert list(test) == list(test) and len(test) == 7600   # iterable again; len is torchtext's line count
    train, again = datasets.AG_NEWS(root=tmp_path, split=("test", "test"))
    assert list(train) == list(again)
    with pytest.raises(ValueError, match="split"):
        datasets.AG_NEWS(root=tmp_path, split="valid")


def test_dataset_downloads_are_md5_checked(tmp_path):
    from ember.text.datasets import language_modeling, text_classification
    for md5 in (list(text_classification.AG_NEWS_MD5.values()) + [text_classification.IMDB_MD5] +
                list(language_modeling.PTB_MD5.values()) + [language_modeling.WIKITEXT2_MD5]):
        assert len(md5) == 32 and int(md5, 16) >= 0
    source = tmp_path / "ptb.test.txt"
    source.write_text(" a b \n c d \n")
    language_modeling.PTB_URL["test"], original = source.as_uri(), language_modeling.PTB_URL["test"]
    try:
        language_modeling.PTB_MD5["test"], md5 = hashlib.md5(source.read_bytes()).hexdigest(), \
            language_modeling.PTB_MD5["test"]
        assert list(datasets.PennTreebank(root=tmp_path / "root", split="test")) == ["a b", "c d"]
        language_modeling.PTB_MD5["test"] = "0" * 32
        with pytest.raises(RuntimeError, match="corrupted"):
            list(datasets.PennTreebank(root=tmp_path / "other", split="test"))
        assert not (tmp_path / "other" / "PennTreebank" / "ptb.test.txt").exists()
    finally:
        language_modeling.PTB_URL["test"], language_modeling.PTB_MD5["test"] = original, md5


def test_imdb_reads_the_extracted_reviews(tmp_path):
    for split, sentiment, name, text in [("train", "neg", "0_3.txt", "Dull."), ("train", "pos", "1_9.txt", "Great!"),
                                         ("test", "pos", "2_8.txt", "Fine.")]:
        folder = tmp_path / "IMDB" / "aclImdb" / split / sentiment
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    (tmp_path / "IMDB" / "aclImdb" / "test" / "neg").mkdir()
    train, test = datasets.IMDB(root=tmp_path)
    assert list(train) == [(1, "Dull."), (2, "Great!")] and list(test) == [(2, "Fine.")]


def test_language_modeling_lines(tmp_path):
    folder = tmp_path / "WikiText2" / "wikitext-2"
    folder.mkdir(parents=True)
    (folder / "wiki.valid.tokens").write_text(" \n = Robert <unk> = \n \n")
    assert list(datasets.WikiText2(root=tmp_path, split="valid")) == [" \n", " = Robert <unk> = \n", " \n"]
    (tmp_path / "PennTreebank").mkdir()
    (tmp_path / "PennTreebank" / "ptb.valid.txt").write_text(" consumers may want <unk> \n the N \n")
    train = datasets.PennTreebank(root=tmp_path, split="valid")
    assert list(train) == ["consumers may want <unk>", "the N"] and len(train) == 3370


def test_import_ember_text_uses_no_optional_library():
    code = "import sys, ember, ember.text; print([m for m in ('torch', 'torchtext', 'spacy') if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=os.path.dirname(os.path.dirname(ember.__file__)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
