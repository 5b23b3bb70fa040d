"""Benchmarks (``make bench``): results go to bench/results/ and the README tables."""

import os

# Measure in-process work the way `bokji run` runs it (bokji.supervisor.stack_env): one OpenBLAS thread. Without
# this, OpenBLAS's helper threads spin on the second core after each vector product, and the model, which takes
# the second core only when it is idle, measured at one thread and 2x slower than in the stack.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
