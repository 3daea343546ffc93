"""Convolution: Conv2D, pooling, output-size geometry, the explained convolution, image kernels and sample images."""
