"""What is made of finished runs: the regression gate (gate.py), statistics over seeds
(statistics.py), and a comparison's page and pictures (seed_report.py, seed_figures.py)."""
