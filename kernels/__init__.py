"""Hand-written kernels for the wafer-scale dataflow processor (``wse.kernels``).

Sub-packages: ``wse.kernels.llm`` holds the host-side model layer (config, weights, tokenizer and
the numpy reference of the transformer decode) for running a language model on the fabric.
"""
