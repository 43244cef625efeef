"""The command-line plumbing the five console scripts share (wse-as, wse-objdump, wse-emu,
wse-bench, wse-llm): their entry points (``wse.cli.launch``), which turn an interrupt, an
out-of-memory or a failed standard output at any moment into one line and a documented exit
status, and the file helpers (``wse.cli.files``): output files replaced only when complete,
input reads with a bound, messages with control characters escaped.

Nothing is imported here: the entry points must start with nothing heavy loaded.
"""
