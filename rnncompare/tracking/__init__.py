"""MLflow, and where each result came from: the store (store.py), one run per trained model
(runs.py, model_logging.py), lineage (lineage.py), runs of dead stages (orphans.py), the registry
and its champion (model_registry.py, champion.py), loading models (loading.py) and the UI's
addresses (ui.py)."""
