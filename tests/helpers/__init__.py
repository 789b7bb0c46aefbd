"""Plain-function helpers shared by the tests (fixtures live in the conftest.py files):
cli (run `mlops`), data (frames), models (a stored churn model), projects (example projects on
disk), remote (two machines sharing a remote), store (store invariants), mlflow_venv (the real
mlflow)."""
