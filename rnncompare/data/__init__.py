"""The tasks' data as the data stages make them: the sum-of-bits splits (sumbits.py, sums.py) and
MNIST fetched from mirrors and verified (mirrors.py, idx.py, mnist.py)."""
