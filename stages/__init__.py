"""One module per DVC stage, and nothing else: `python -m stages.<name> --help`. Each imports only
the standard library and rnncompare, whose package sets the environment (quiet TensorFlow start-up,
no MLflow telemetry) before any library loads."""
