"""Evaluating a trained model on its task's test sets: the metrics (metrics.py) and their plot (plots.py).
Its own folder, so that a change to how models are scored re-evaluates them without retraining."""
