"""Unsupervised learning on the digits: an autoencoder with a narrow latent code, and PCA as its linear baseline."""
