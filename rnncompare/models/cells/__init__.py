"""The project's own recurrent cells, one module each (rnncompare/registry.py says how).

Importing this package imports every module in it, so a loader needs only `import rnncompare.models.cells`
to deserialize any model the project saved, whatever cell it uses.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
