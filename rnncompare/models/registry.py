"""The registry of the project's own recurrent cells, one module each in `rnncompare/models/cells/`.

A cell is a class decorated with `@register_cell`; its module's name is the cell's name in
params.yaml (`cell: <name>`). Registering makes the class known to Keras for saving and loading (as
`rnncompare>ClassName`) and to the model builder. params validation lists the names from the
folder alone (rnncompare/config/params.py), without importing Keras; loaders import
`rnncompare.models.cells`, which imports every module. Logged models carry this module.
"""

_classes: dict[str, type] = {}


def register_cell(cls: type) -> type:
    """Class decorator: the cell of its module's name, serializable by Keras as `rnncompare>Class`."""
    import keras

    _classes[cls.__module__.rsplit(".", 1)[-1]] = cls
    return keras.saving.register_keras_serializable(package="rnncompare")(cls)


def cell_class(name: str) -> type:
    """The registered class of one of our cells (imports them all first)."""
    import rnncompare.models.cells  # noqa: F401

    return _classes[name]
