"""Data: sources, tokenising, vocabulary, encoding and the tf.data pipeline."""
