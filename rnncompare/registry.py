"""One registry of recurrent cells: Keras' own, and ours in `rnncompare/cells/<name>.py`.

A cell of ours is one module whose class is decorated with `@register_cell`; the module's name is
the cell's name in params.yaml (`cell: <name>`). Registering makes the class known to Keras for
saving and loading, and to the model builder. Params validation lists the names from the modules
alone, without importing Keras; loaders import `rnncompare.cells`, which imports every module.
"""

import pkgutil
from pathlib import Path

CELLS_FOLDER = Path(__file__).with_name("cells")
BUILT_IN = ("simple", "lstm", "gru")  # keras.layers.SimpleRNN, LSTM, GRU (rnncompare/models.py)
_classes: dict[str, type] = {}


def cell_names() -> tuple[str, ...]:
    """Every cell params.yaml may name: Keras' own, then one per module of rnncompare/cells."""
    ours = sorted(
        module.name for module in pkgutil.iter_modules([str(CELLS_FOLDER)]) if not module.name.startswith("_")
    )
    return BUILT_IN + tuple(ours)


def register_cell(cls: type) -> type:
    """Class decorator: the cell of its module's name, serializable by Keras as `rnncompare>Class`."""
    import keras

    _classes[cls.__module__.rsplit(".", 1)[-1]] = cls
    return keras.saving.register_keras_serializable(package="rnncompare")(cls)


def cell_class(name: str) -> type:
    """The registered class of one of our cells (imports them all first)."""
    import rnncompare.cells  # noqa: F401

    return _classes[name]
