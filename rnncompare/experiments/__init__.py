"""DVC experiments as this project runs them: profiles run as experiments in temporary copies
(profiles.py, profile_runs.py), and the seeds of a comparison through DVC's queue (seeds.py), its runs tagged in MLflow
(comparison_tags.py)."""
