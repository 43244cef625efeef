"""Collectives over rows, columns and rectangles of PEs: broadcast, reduce (sum, max; chain,
tree and two-phase) and all-reduce (kernels *.s, drivers in run.py, models in model.py)."""
