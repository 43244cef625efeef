"""Element-wise kernels over distributed vectors: add, mul, scale, residual add, SiLU, SwiGLU."""
