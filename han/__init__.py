"""Hierarchical Attention Networks (Yang et al., NAACL 2016) on TensorFlow 2 / Keras 3."""

__version__ = "0.1.0"
