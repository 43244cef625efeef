"""Argmax (value and index, ties to the lowest index, NaNs ignored) over a distributed vector."""
