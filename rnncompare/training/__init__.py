"""Training and evaluating one model: its inputs (inputs.py, augmentation.py), how it runs on this
machine (device.py), fitting (fit.py, train.py), test metrics (evaluation.py) and its pictures (plots.py)."""
