"""Argmax (value and index, ties to the lowest index) over a distributed vector."""
