"""The report stage's page: every variant of one pipeline run compared (page.py), its tables
(tables.py) and pictures (figures.py)."""
