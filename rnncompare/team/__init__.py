"""A team's shared infrastructure: the MLflow server on PostgreSQL (server.py, server_auth.py) and
the DVC remote's run-cache (runcache.py)."""
