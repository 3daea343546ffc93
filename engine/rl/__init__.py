"""Reinforcement learning: a grid world with tabular Q-learning and SARSA (every update's terms), value iteration,
the game "catch", and a Q-network (the engine's dense layers) with experience replay and a target network."""
