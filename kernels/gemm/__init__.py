"""GEMM: C = A B with fp16 A, B and fp32 C over a P x P square of PEs (Cannon's algorithm:
gemm.s; driver in run.py, NumPy and cycle models in model.py)."""
