"""The models: the registry of the project's own cells and the cells (registry.py, cells/), the
builder of every variant (build.py), and MLflow's loader for the logged models (serving.py).

A logged model carries registry.py, cells/ and serving.py, with this file and the package's
root: what loading it needs, and nothing that imports more than Keras and MLflow.
"""
