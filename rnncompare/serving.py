"""The loader that models logged before rnncompare's subpackages existed name in their MLmodel
(`loader_module: rnncompare.serving`): a process that has already imported this package (predict,
a notebook) resolves that name here rather than in the model's own copy of the code."""

from rnncompare.models.serving import _load_pyfunc  # noqa: F401
