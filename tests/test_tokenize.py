"""Tokenising with the real NLTK models: sentences, words, settings, parallelism."""

from __future__ import annotations

import numpy as np
import pytest

from han.data.tokenize import (
    DocumentTokenizer,
    NLTKModelMissing,
    TokenizerSettings,
    load_sentence_model,
    merge_chunks,
    tokenize_texts,
)

TEXT = (
    "Ad sales boost Time Warner profit\n\n"
    "Quarterly profits at US media giant TimeWarner jumped 76% to $1.13bn (£600m). "
    "Mr. Smith didn't comment, said the firm."
)


def test_splits_paragraphs_sentences_and_words():
    sentences, truncated = DocumentTokenizer(TokenizerSettings())(TEXT)
    assert not truncated
    # The title has no full stop but is its own paragraph, hence its own sentence.
    assert sentences[0] == ["ad", "sales", "boost", "time", "warner", "profit"]
    assert len(sentences) == 3
    # NLTK's word tokenizer splits contractions and keeps abbreviations' full stops.
    assert sentences[2][:5] == ["mr.", "smith", "did", "n't", "comment"]
    assert "£600m" in sentences[1] or "£600m" in " ".join(sentences[1])


def test_lowercase_is_a_setting():
    sentences, _ = DocumentTokenizer(TokenizerSettings(lowercase=False))(TEXT)
    assert sentences[0][0] == "Ad"


def test_no_sentence_punctuation_is_one_sentence():
    text = " ".join(["word"] * 500)
    sentences, _ = DocumentTokenizer(TokenizerSettings())(text)
    assert [len(s) for s in sentences] == [500]


def test_empty_and_whitespace_documents_have_no_sentence():
    tokenizer = DocumentTokenizer(TokenizerSettings())
    assert tokenizer("")[0] == []
    assert tokenizer("   \n\n \t ")[0] == []


def test_huge_document_is_cut_at_max_chars_and_flagged():
    text = "This is a sentence. " * 500_000  # 10 MB
    sentences, truncated = DocumentTokenizer(TokenizerSettings(max_chars=20_000))(text)
    assert truncated
    assert 900 <= len(sentences) <= 1001


def test_parallel_equals_serial_and_keeps_order():
    texts = [f"Document {i} says hello. It has {i % 7} apples!" for i in range(600)]
    texts[5] = ""
    settings = TokenizerSettings()
    serial = tokenize_texts(texts, settings, workers=1, chunk_size=100, progress=False)
    parallel = tokenize_texts(texts, settings, workers=2, chunk_size=100, progress=False)
    for chunk in (serial, parallel):
        assert len(chunk.doc_sentences) == 600
        assert chunk.doc_sentences[5] == 0
    lexicon_s, lexicon_p = np.array(serial.lexicon), np.array(parallel.lexicon)
    assert (lexicon_s[serial.tokens] == lexicon_p[parallel.tokens]).all()
    np.testing.assert_array_equal(serial.sentence_lengths, parallel.sentence_lengths)


def test_merge_remaps_local_lexicons():
    settings = TokenizerSettings()
    a = tokenize_texts(["b a."], settings, workers=1, progress=False)
    b = tokenize_texts(["a c."], settings, workers=1, progress=False)
    merged = merge_chunks([a, b])
    words = np.array(merged.lexicon)[merged.tokens].tolist()
    assert words == ["b", "a", ".", "a", "c", "."]
    assert len(merged.lexicon) == 4


def test_missing_model_says_how_to_install(monkeypatch, tmp_path):
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    monkeypatch.delenv("NLTK_DATA", raising=False)
    with pytest.raises(NLTKModelMissing, match=r"`han-nltk-setup`.*HAN_DATA_MIRROR.*paths\.nltk_data"):
        load_sentence_model(TokenizerSettings(language="english"))


def test_punctuation_tokens_can_be_dropped():
    settings = TokenizerSettings(drop_punctuation=True)
    sentences, _ = DocumentTokenizer(settings)('Great film... "Loved it"! 9/10 -- really.')
    words = [w for s in sentences for w in s]
    assert words == ["great", "film", "loved", "it", "9/10", "really"]
    assert settings.cache_key() != TokenizerSettings().cache_key()
