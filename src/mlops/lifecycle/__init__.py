"""The steps of a model's life. Each is a plain function `step(config, store, ...) -> Result`
that the CLI and the tests call directly; nothing here prints.

    validate.py   data against the schema (and schema inference)
    train/        fit the declared pipeline, score the holdout, store the model
    evaluate/     the gate (rules.py) on a holdout or test set, promotion, the model registry
    monitor/      drift, quality and performance of a batch against a model's reference; alerts
    deploy/       package bundles, batch prediction and the HTTP server
    loop/         `run` (the declared stages, cached), `retrain` and `demo`

Shared below them: metrics.py (metric names and computation), model_io.py (a stored model's
files and loading), runs.py (run bookkeeping). Each subpackage's `__init__` is its public face;
its names load lazily (see _lazy.py).
"""
