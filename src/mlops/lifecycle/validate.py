"""`validate`: check data against the schema, and record the dataset and the report."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.errors import ConfigError, ExitCode
from mlops.lifecycle.datasets import dataset_entries

if TYPE_CHECKING:
    from mlops.config import Config
    from mlops.data.readers import CsvOptions, DataFile
    from mlops.data.results import ValidationReport
    from mlops.data.schema import DatasetSchema
    from mlops.lifecycle.engine import DaskEngine
    from mlops.store import Artifact, Store


@dataclass
class ValidateResult:
    report: Any  # mlops.data.results.ValidationReport
    paths: list[str]
    schema_source: str
    dataset: Artifact | None = None
    report_artifact: Artifact | None = None
    files_hashed: int = 0
    files_unchanged: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.report.passed)

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK if self.passed else ExitCode.CHECK_FAILED)

    def to_dict(self) -> dict[str, Any]:
        # kept: a reshape (artifact refs, the schema's pydantic dump)
        return {
            "passed": self.passed,
            "paths": self.paths,
            "schema": self.schema_source,
            "dataset": _ref(self.dataset),
            "report_artifact": _ref(self.report_artifact),
            "files_hashed": self.files_hashed,
            "files_unchanged": self.files_unchanged,
            "report": self.report.to_dict(),
        }


def _ref(art: Artifact | None) -> dict[str, Any] | None:
    return None if art is None else {"id": art.id, "name": art.name, "version": art.version}


def load_dataset_schema(config: Config, schema_path: Path | None = None) -> tuple[Any, str]:
    """The schema from --schema, else mlops.yaml `schema:` (inline or a path)."""
    from mlops.data.schema import DatasetSchema, load_schema

    if schema_path is not None:
        return load_schema(schema_path), str(schema_path)
    declared = config.model.schema_
    if declared is None:
        raise ConfigError(
            f"{config.path.name}: no `schema:` is declared",
            hint="write one with `mlops validate --infer DATA -o schema.yaml`, then set `schema: schema.yaml`",
        )
    if isinstance(declared, DatasetSchema):
        return declared, f"{config.path.name} (inline)"
    path = config.resolve_path(declared)
    if not path.is_file():
        raise config.error(
            ("schema",),
            f"schema file {declared!r} does not exist",
            hint="create it with `mlops validate --infer DATA -o " + declared + "`",
        )
    return load_schema(path), str(declared)


def data_specs(config: Config, paths: list[str] | None) -> tuple[list[str], bool]:
    """The data to validate: the paths given, else data.train and data.test from mlops.yaml."""
    if paths:
        return list(paths), False
    specs = [*config.model.data.train, *config.model.data.test]
    if not specs:
        raise config.error(
            ("data",),
            "no data to validate: pass DATA or set data.train",
            hint="e.g. `mlops validate data/new.csv`",
        )
    return specs, True


def dataset_name(config: Config, specs: list[str], from_config: bool) -> str:
    if from_config:
        return f"{config.model.project}-train"
    stem = Path(specs[0]).name.split(".")[0] or "data"
    return re.sub(r"[^A-Za-z0-9._-]", "-", stem).strip("-._") or "data"


def validate(
    config: Config,
    store: Store | None,
    paths: list[str] | None = None,
    schema_path: Path | None = None,
    record: bool = True,
    command: str | None = None,
    engine: DaskEngine | None = None,
    store_data: bool = False,
) -> ValidateResult:
    """Check data files against the dataset schema, chunk by chunk, collecting every failure.

    Args:
        config: the project's config (`schema:` and `validate:`).
        store: where the dataset and the report are recorded (None: record nothing).
        paths: files, directories or globs (default: `data.train` and `data.test`).
        schema_path: a schema file that overrides the config's.
        record: store the dataset and the validation report as linked artifacts.
        command: the command line, recorded with the run.
        engine: a Dask engine to run the checks on (None: this process, in chunks).
        store_data: also copy files read from object storage into the store (they are
            always recorded by URL, size and ETag/version).

    Returns:
        Every check's result with counts and sample rows; `passed` and the exit code.

    Raises:
        ConfigError: no schema, or an invalid one.
        InputError: a file cannot be read (not found, wrong format, not UTF-8, ...).
    """
    from mlops.data.checks import load_checks_module
    from mlops.data.readers import CsvOptions, expand_sources

    section = config.model.validate_
    schema, source = load_dataset_schema(config, schema_path)
    if section.checks_module:
        load_checks_module(section.checks_module, search_path=config.base_dir)
    specs, from_config = data_specs(config, paths)
    base = config.base_dir if from_config else Path.cwd()
    files = expand_sources(specs, base=base)
    csv = CsvOptions(delimiter=config.model.data.delimiter, encoding=config.model.data.encoding)
    report = _check(config, files, schema, csv, engine)
    result = ValidateResult(report=report, paths=[str(f) for f in files], schema_source=source)
    if not record or store is None:
        return result

    # Only after the data was read whole: nothing is stored for unreadable input.
    entries = {}
    sources, remote = dataset_entries(files, base, store_data)
    for name, f in sources.items():
        entry, cached = store.put_file(f) if isinstance(f, Path) else (store.put_bytes(f), False)
        entries[name] = entry
        result.files_unchanged += int(cached)
        result.files_hashed += int(not cached)
    if entries and result.files_unchanged == len(entries):
        result.notes.append(
            "data unchanged since it was last hashed (size and mtime match): not re-hashed"
        )
    meta: dict[str, Any] = {"source": specs, "rows": report.n_rows, "columns": report.columns}
    if remote:
        meta["remote"] = remote
    result.dataset = store.add_artifact(
        "dataset", dataset_name(config, specs, from_config), entries, metadata=meta, command=command
    )
    body = json.dumps(report.to_dict(), sort_keys=True, indent=1).encode()
    result.report_artifact = store.add_artifact(
        "validation",
        f"{result.dataset.name}-validation",
        {"report.json": body},
        metadata={
            "passed": report.passed,
            "schema": source,
            "failed_checks": sum(not c.passed for c in report.checks),
        },
        parents=[result.dataset.id],
        command=command,
    )
    return result


def _check(
    config: Config,
    files: Sequence[DataFile],
    schema: DatasetSchema,
    csv: CsvOptions,
    engine: DaskEngine | None,
) -> ValidationReport:
    """The validation report of files, in chunks here or per file on a Dask engine."""
    from mlops.data.readers import iter_chunks_with_offset
    from mlops.data.validate import validate_chunks

    section = config.model.validate_
    if engine is not None:
        from mlops.lifecycle.validate_parallel import validate_on_dask

        module = section.checks_module
        return validate_on_dask(
            engine,
            files,
            schema,
            sample_limit=section.sample_limit,
            chunk_rows=section.chunk_rows,
            csv=csv,
            checks_module=(module, config.base_dir) if module else None,
        )
    chunks = iter_chunks_with_offset(
        files, chunk_rows=section.chunk_rows, csv_options=csv, dtypes=schema.reader_dtypes()
    )
    return validate_chunks(chunks, schema, sample_limit=section.sample_limit)


@dataclass
class InferResult:
    schema: Any
    comments: dict[str, str]
    n_rows: int
    paths: list[str]

    def yaml(self) -> str:
        from mlops.data.schema import schema_to_yaml

        return schema_to_yaml(self.schema, self.comments)

    def to_dict(self) -> dict[str, Any]:
        # kept: a reshape (artifact refs, the schema's pydantic dump)
        return {
            "paths": self.paths,
            "rows": self.n_rows,
            "schema": self.schema.model_dump(mode="json", exclude_defaults=True),
        }


def infer(config: Config | None, paths: list[str]) -> InferResult:
    from mlops.data.infer import SchemaInferrer
    from mlops.data.readers import CsvOptions, expand_paths, iter_chunks_with_offset

    if config is not None:
        section = config.model.validate_
        csv = CsvOptions(delimiter=config.model.data.delimiter, encoding=config.model.data.encoding)
        margin, max_cat, chunk_rows = (
            section.infer_margin,
            section.infer_max_categories,
            section.chunk_rows,
        )
    else:
        csv, margin, max_cat, chunk_rows = CsvOptions(), 0.1, 50, 500_000
    files = expand_paths(paths, base=Path.cwd())
    time_column = config.model.data.time_column if config is not None else None
    inferrer = SchemaInferrer(
        range_margin=margin,
        max_categories=max_cat,
        time_columns=[time_column] if time_column else [],
    )
    inferrer.fit(iter_chunks_with_offset(files, chunk_rows=chunk_rows, csv_options=csv))
    return InferResult(
        inferrer.schema_, dict(inferrer.comments_), inferrer.n_rows_, [str(f) for f in files]
    )


__all__ = [
    "InferResult",
    "ValidateResult",
    "data_specs",
    "dataset_name",
    "infer",
    "load_dataset_schema",
    "validate",
]
