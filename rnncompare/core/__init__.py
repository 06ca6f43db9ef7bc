"""What every stage uses: the project's error and entry point, outputs written all at once, flat
metric names, the repository's root and the stage-time log."""
