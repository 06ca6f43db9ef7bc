"""One module per DVC stage: `python -m stages.<name> --help`."""

# The package's environment defaults (quiet TensorFlow start-up, no MLflow telemetry) must be set
# before a stage imports TensorFlow: this runs before any stage module.
import rnncompare  # noqa: F401
