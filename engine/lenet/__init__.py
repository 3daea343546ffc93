"""LeNet-5: the model, its training, the MNIST bundle, drawn digits, augmentation, shipped data and weights."""
