"""Training data: read data.train (files, globs, directories, object-storage URLs, dataset refs)
into one frame and record the files read as a `dataset` artifact (URLs by URL, size and ETag)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.errors import MlopsError

if TYPE_CHECKING:
    import pandas as pd

    from mlops.config import Config
    from mlops.data.readers import CsvOptions, DataFile
    from mlops.lifecycle.engine import DaskEngine
    from mlops.store import Store
    from mlops.store.artifact import Artifact


@dataclass
class TrainingData:
    frame: pd.DataFrame
    datasets: list[Artifact]
    paths: list[DataFile] = field(default_factory=list)  # the files, when data.train names files
    csv: CsvOptions | None = None
    all_rows: int | None = None  # rows in the files when frame is a sample of them


def load_training_data(
    config: Config,
    store: Store,
    command: str | None = None,
    engine: DaskEngine | None = None,
    store_data: bool = False,
) -> TrainingData:
    """Read data.train (paths, globs, directories, `s3://`/`gs://`/`az://`/`https://` URLs, or
    `dataset:NAME[:VERSION|@ALIAS]` refs) and record the files as a `dataset` artifact
    (unchanged files are not re-hashed; objects in object storage are described by URL, size
    and ETag, and copied only with store_data). With `train.sample_rows`, files are read as a
    seeded uniform sample (on the Dask engine when one is given)."""
    import pandas as pd

    from mlops.data.readers import CsvOptions, expand_sources
    from mlops.lifecycle.datasets import dataset_entries

    data = config.model.data
    if not data.train:
        raise config.error(
            ("data", "train"),
            "no training data; list files, globs or a dataset:NAME ref",
            hint="e.g. data: {train: data/train.csv}",
        )
    csv = CsvOptions(delimiter=data.delimiter, encoding=data.encoding)
    frames, datasets, specs = _read_dataset_refs(config, store, csv)
    paths: list[DataFile] = []
    all_rows = None
    if config.model.train.sample_rows and datasets:
        raise config.error(
            ("train", "sample_rows"),
            "sample_rows needs data.train to name files, not dataset: refs",
            hint="point data.train at the files, or remove sample_rows",
        )
    if specs:
        paths = expand_sources(specs, base=config.base_dir)
        frame, all_rows = _read_files(config, paths, csv, engine)
        frames.append(frame)
        name = config.model.train.dataset_name or f"{config.model.project}-train"
        files, remote = dataset_entries(paths, config.base_dir, store_data)
        meta: dict[str, Any] = {
            "source": specs,
            "rows": all_rows if all_rows is not None else len(frame),
            "columns": [str(c) for c in frame.columns],
        }
        if remote:
            meta["remote"] = remote
        datasets.append(store.add_artifact("dataset", name, files, metadata=meta, command=command))
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if len(frame) == 0:
        raise config.error(("data", "train"), "the training data has no rows")
    only_files = bool(specs) and len(frames) == 1
    return TrainingData(
        frame.reset_index(drop=True), datasets, paths if only_files else [], csv, all_rows
    )


def _read_dataset_refs(
    config: Config, store: Store, csv: CsvOptions
) -> tuple[list[pd.DataFrame], list[Artifact], list[str]]:
    """The frames and artifacts of data.train's `dataset:` refs, and its other entries (files,
    globs, URLs) left to read."""
    from mlops.data.readers import expand_paths, read_frame

    frames: list[pd.DataFrame] = []
    datasets: list[Artifact] = []
    specs: list[str] = []
    for i, spec in enumerate(config.model.data.train):
        if not spec.startswith("dataset:"):
            specs.append(spec)
            continue
        try:
            art = store.resolve(spec.removeprefix("dataset:"), kind="dataset")
        except MlopsError as e:
            raise config.error(("data", "train", i), e.message, hint=e.hint) from None
        with tempfile.TemporaryDirectory(prefix="mlops-data-") as tmp:
            store.export(art, Path(tmp))
            frames.append(read_frame(expand_paths([tmp]), csv_options=csv))
        datasets.append(art)
    return frames, datasets, specs


def _read_files(
    config: Config, paths: list[DataFile], csv: CsvOptions, engine: DaskEngine | None
) -> tuple[pd.DataFrame, int | None]:
    """The training files whole, or with train.sample_rows a seeded uniform sample of them
    and the number of rows they hold."""
    from mlops.data.readers import read_frame

    sample_rows = config.model.train.sample_rows
    if not sample_rows:
        return read_frame(paths, csv_options=csv), None
    from mlops.lifecycle.train.sample import sample_files

    return sample_files(paths, sample_rows, config.model.train.random_state, csv, engine)
