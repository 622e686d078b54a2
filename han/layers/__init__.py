"""The parts of a Hierarchical Attention Network, one Keras layer each (paper section 2)."""

from han.layers.attention import AttentionPooling, masked_softmax
from han.layers.bigru import BidirectionalGRU
from han.layers.pooling import POOLING_KINDS, MaskedAveragePooling, MaskedMaxPooling, make_pooling
from han.layers.sentence_encoder import SentenceEncoder
from han.layers.word_encoder import WordDropout, WordEncoder

__all__ = [
    "POOLING_KINDS",
    "AttentionPooling",
    "BidirectionalGRU",
    "MaskedAveragePooling",
    "MaskedMaxPooling",
    "SentenceEncoder",
    "WordDropout",
    "WordEncoder",
    "make_pooling",
    "masked_softmax",
]
