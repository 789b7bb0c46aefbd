"""Reading tabular data, schemas, streaming validation, schema inference and report renderers.

Modules are imported directly (`from mlops.data.validate import validate_chunks`) so that
importing this package stays cheap.
"""
