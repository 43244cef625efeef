"""RMSNorm over a distributed vector (software rsqrt, all-reduce of the sum of squares)."""
