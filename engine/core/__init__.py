"""The building blocks: layers, activations, losses, optimisers, initialisers, Sequential networks,
gradient checks, serialization."""
