"""GEMV kernels: y = A x (+ b) and y = A^T x (+ b), fp16 A with fp32 accumulation, over a
kx x ky rectangle of PEs (gemv.s, gemv_t.s; drivers in run.py, NumPy models in model.py)."""
