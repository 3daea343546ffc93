"""Dense networks: the trainer, toy data sets and features, presets, reconfiguration, the backprop walk,
the single neuron."""
