"""The one exception type for failures a user can fix, and the entry point that reports them (and,
under DVC, what a failed stage lost: rnncompare/core/removed_outputs.py)."""

import logging
import signal
import sys
from collections.abc import Callable

from rnncompare.core import removed_outputs, stagetimes


class PipelineError(Exception):
    """An expected failure: the message names the file, key or value and the fix."""


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage's `main()`; turn a PipelineError into one clear line and exit status 1."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # A stage stopped by `kill` or DVC unwinds like an error, so an open MLflow run ends FAILED.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    # Stages print their own progress lines; Keras' bars (e.g. from MLflow's predict) would garble them.
    # Only where Keras is already loaded: importing it costs the other entry points seconds.
    keras = sys.modules.get("keras")
    if keras is not None:
        keras.config.disable_interactive_logging()  # ...which sends them to absl's logger instead: quiet it
        logging.getLogger("absl").setLevel(logging.WARNING)
    stagetimes.main_started()
    failed = True
    try:
        main()
        failed = False
    except SystemExit as exit:
        failed = exit.code not in (0, None)
        raise
    except PipelineError as error:
        logging.getLogger("rnncompare").error("%s", error)
        sys.exit(1)
    finally:
        if failed:
            lost = removed_outputs.hint()
            if lost:
                logging.getLogger("rnncompare").error("%s", lost)
        stagetimes.record(failed)
