// The /neuron page: the neuron component with every panel, in the state the URL hash carries (lessons link
// here with theirs).
import { mountNeuron, presetFromHash } from "./widget.js";

mountNeuron(presetFromHash(location.hash));
