"""python -m wse.kernels.attention: cycles and error of one AttentionChain step (run.main)."""
import sys

from wse.kernels._cli import guarded
from wse.kernels.attention.run import main

sys.exit(guarded("python -m wse.kernels.attention", main))
