"""mlops: the whole life of a tabular ML model from one YAML file."""

__version__ = "0.1.0"
