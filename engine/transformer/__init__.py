"""Transformers: attention layers, the models, toy sequence tasks and the trainer."""
