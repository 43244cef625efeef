"""Softmax over a distributed vector (software exp and reciprocal, two all-reduces)."""
