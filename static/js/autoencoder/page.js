// The /autoencoder page: the autoencoder component on the shipped model.
import { mountAutoencoder } from "./widget.js";

mountAutoencoder();
