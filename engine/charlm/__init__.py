"""A character-level language model: corpus, decoder-only transformer, trainer."""
