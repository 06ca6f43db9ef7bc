"""The project's own recurrent cells, each a module of this package that registers its classes
with Keras (`keras.saving.register_keras_serializable(package="rnncompare")`).

Importing this package imports every module in it, so a loader needs only `import rnncompare.cells`
to deserialize any model the project saved, whatever cell it uses.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
