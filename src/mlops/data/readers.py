"""Reading tabular files (CSV, Parquet) whole or in bounded-memory chunks.

Every failure to read becomes an InputError whose message names the file and what is wrong.
Row numbers are 0-based data rows (the header is not counted), numbered globally across all
files in the order `expand_paths` returns them.
"""

from __future__ import annotations

import glob
import io
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops import progress
from mlops.data.file_parts import RowGroups
from mlops.data.urls import DataUrl, credentials, expand_url, is_url
from mlops.errors import InputError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

DataFile = Path | DataUrl | RowGroups  # a local file, one in object storage, or a piece of one

CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".csv.bz2", ".csv.zst")
PARQUET_SUFFIXES = (".parquet", ".pq")
_GLOB_CHARS = set("*?[")
_OTHER_DELIMITERS = (";", "\t", "|", ",")
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class CsvOptions:
    """How CSV text is parsed; `delimiter=None` means ',' (or tab for .tsv files).
    `max_line_bytes` bounds one line of a local uncompressed file (and so one field): a longer
    line is refused while it is read, so a runaway cell cannot exhaust memory."""

    delimiter: str | None = None
    encoding: str = "utf-8"
    max_line_bytes: int = 64 << 20


def expand_sources(specs: Sequence[str | Path], base: Path | None = None) -> list[DataFile]:
    """`expand_paths`, and URLs too (`s3://bucket/prefix/*.parquet`, `gs://`, `az://`,
    `https://`), expanded the same way in object storage and listed after the local files.

    Raises:
        InputError: a spec matches nothing, a file has an unsupported type, or the credentials
            for a URL are missing (the message names the variable).
    """
    local = [s for s in specs if not (isinstance(s, str) and is_url(s))]
    remote: list[DataUrl] = []
    for spec in specs:
        if isinstance(spec, str) and is_url(spec):
            remote.extend(expand_url(spec, (PARQUET_SUFFIXES, CSV_SUFFIXES)))
    for url in remote:
        _file_format(url)
    found: list[DataFile] = list(expand_paths(local, base)) if local else []
    return [*found, *sorted(dict.fromkeys(remote), key=str)]


def expand_paths(specs: Sequence[str | Path], base: Path | None = None) -> list[Path]:
    """Turn files, directories and glob patterns into a sorted list of data files.

    A directory contributes its Parquet files (searched recursively, so partitioned datasets
    work) or, if it holds none, its CSV files. Relative specs are resolved against `base`.
    """
    found: list[Path] = []
    for spec in specs:
        raw = Path(spec)
        path = raw if raw.is_absolute() or base is None else base / raw
        if _GLOB_CHARS & set(str(spec)):
            matches = [Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file()]
            if not matches:
                raise InputError(
                    f"The pattern '{spec}' matches no files.",
                    hint=f"Check the pattern; it was resolved against {base or Path.cwd()}.",
                )
            found.extend(sorted(matches))
        elif path.is_dir():
            found.extend(_data_files_in(path))
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(
                f"The data file '{path}' does not exist.",
                hint="Check the path in mlops.yaml or on the command line.",
            )
    for path in found:
        _file_format(path)
    return sorted(dict.fromkeys(found))


def _data_files_in(directory: Path) -> list[Path]:
    def visible(p: Path) -> bool:
        rel = p.relative_to(directory).parts
        return p.is_file() and not any(part.startswith((".", "_")) for part in rel)

    for suffixes in (PARQUET_SUFFIXES, CSV_SUFFIXES):
        files = [p for p in directory.rglob("*") if visible(p) and _has_suffix(p, suffixes)]
        if files:
            return sorted(files)
    raise InputError(
        f"The directory '{directory}' contains no Parquet or CSV files.",
        hint="Point at a directory of .parquet or .csv files, a file, or a glob pattern.",
    )


def _has_suffix(path: DataFile, suffixes: Sequence[str]) -> bool:
    return path.name.lower().endswith(tuple(suffixes))


def _file_format(path: DataFile) -> str:
    if _has_suffix(path, PARQUET_SUFFIXES):
        return "parquet"
    if _has_suffix(path, CSV_SUFFIXES):
        return "csv"
    raise InputError(
        f"The file '{path}' has an unsupported type '{''.join(path.suffixes) or '(none)'}'.",
        hint="Use CSV (.csv, .tsv, optionally compressed) or Parquet (.parquet, .pq) files.",
    )


def iter_chunks(
    paths: Sequence[DataFile],
    columns: Sequence[str] | None = None,
    chunk_rows: int = 500_000,
    csv_options: CsvOptions | None = None,
    dtypes: Mapping[str, str] | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield DataFrames of at most `chunk_rows` rows; memory is bounded by the chunk size."""
    for _, frame in iter_chunks_with_offset(paths, columns, chunk_rows, csv_options, dtypes):
        yield frame


def iter_batches(
    paths: Sequence[DataFile],
    columns: Sequence[str] | None = None,
    chunk_rows: int = 500_000,
    csv_options: CsvOptions | None = None,
    dtypes: Mapping[str, str] | None = None,
    dictionary: Sequence[str] | None = None,
) -> Iterator[pa.RecordBatch | pa.Table | pd.DataFrame]:
    """`iter_chunks` for readers of columns (profiles): Parquet chunks stay Arrow (record
    batches, or tables of a few batches), their string columns dictionary-encoded (each
    value decoded once per dictionary, not once per row), and CSV chunks are DataFrames.
    Chunks hold the same rows as those `iter_chunks` yields.

    Args:
        paths: the files, as `expand_sources` returns them.
        columns: the columns to read (all when None).
        chunk_rows: the most rows in one chunk.
        csv_options: how CSV text is parsed.
        dtypes: pandas dtypes for CSV columns.
        dictionary: the string columns to dictionary-encode (all when None).

    Returns:
        An iterator of chunks; an empty Parquet file yields one empty Arrow table.

    Raises:
        InputError: a file cannot be read, lacks a requested column, or its columns differ
            from the first file's.
    """
    for _, chunk in iter_batches_with_offset(
        paths, columns, chunk_rows, csv_options, dtypes, dictionary
    ):
        yield chunk


def iter_batches_with_offset(
    paths: Sequence[DataFile],
    columns: Sequence[str] | None = None,
    chunk_rows: int = 500_000,
    csv_options: CsvOptions | None = None,
    dtypes: Mapping[str, str] | None = None,
    dictionary: Sequence[str] | None = None,
) -> Iterator[tuple[int, pa.RecordBatch | pa.Table | pd.DataFrame]]:
    """`iter_batches`, each chunk with the global row number of its first row: `(offset, chunk)`.
    Arguments and errors as `iter_batches`."""
    if chunk_rows < 1:
        raise InputError(f"chunk_rows must be at least 1, got {chunk_rows}.")
    wanted = None if dictionary is None else tuple(dictionary)
    return _iter_files(
        paths, columns, chunk_rows, csv_options, dtypes, arrow=True, dictionary=wanted
    )


def iter_chunks_with_offset(
    paths: Sequence[DataFile],
    columns: Sequence[str] | None = None,
    chunk_rows: int = 500_000,
    csv_options: CsvOptions | None = None,
    dtypes: Mapping[str, str] | None = None,
) -> Iterator[tuple[int, pd.DataFrame]]:
    """Yield `(offset, frame)` where offset is the global row number of the frame's first row.

    Each file yields at least one frame (empty for a header-only CSV) so callers always see
    the columns. All files must have the same set of columns. `dtypes` maps column names to
    pandas dtypes applied while parsing CSV (use it to keep e.g. zip codes as strings).
    """
    if chunk_rows < 1:
        raise InputError(f"chunk_rows must be at least 1, got {chunk_rows}.")
    return _iter_files(paths, columns, chunk_rows, csv_options, dtypes)


def _iter_files(
    paths: Sequence[DataFile],
    columns: Sequence[str] | None,
    chunk_rows: int | None,
    csv_options: CsvOptions | None,
    dtypes: Mapping[str, str] | None,
    arrow: bool = False,
    dictionary: Sequence[str] | None = None,
) -> Iterator[tuple[int, Any]]:
    offset = 0
    first: tuple[DataFile, list[str]] | None = None
    label = f"reading {paths[0].name}" + (f" (+{len(paths) - 1})" if len(paths) > 1 else "")
    with progress.counter(label, lambda: count_rows(paths)) as advance:
        for path in paths:
            options = csv_options or CsvOptions()
            reads = _iter_file(path, columns, chunk_rows, options, dtypes, arrow, dictionary)
            for frame in reads:
                names = [str(c) for c in _names(frame)]
                if first is None:
                    first = (path, names)
                elif set(names) != set(first[1]):
                    raise InputError(column_set_mismatch(first[0], first[1], path, names))
                yield offset, frame
                offset += len(frame)
                advance(len(frame))


def _names(chunk: Any) -> list[Any]:
    schema = getattr(chunk, "schema", None)  # Arrow; a DataFrame has none
    return list(chunk.columns) if schema is None else list(schema.names)


def count_rows(paths: Sequence[DataFile]) -> int | None:
    """The number of data rows, for a progress bar: Parquet's from its metadata, CSV's by
    counting line ends (a quoted newline counts twice: an estimate). None if unreadable, or
    in object storage (not read twice for a progress bar)."""
    total = 0
    try:
        for path in paths:
            if not isinstance(path, Path):
                return None
            if path.suffix.lower() in (".gz", ".bz2", ".zip", ".xz", ".zst"):
                return None  # compressed: line ends cannot be counted without decompressing
            if _file_format(path) == "parquet":
                import pyarrow.parquet as pq

                total += pq.ParquetFile(path).metadata.num_rows
            else:
                with open(path, "rb") as f:
                    lines = sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))
                total += max(lines - 1, 0)  # the header
    except Exception:  # a file the reader itself will report on; the bar just has no total
        return None
    return total


def read_frame(
    paths: Sequence[DataFile],
    columns: Sequence[str] | None = None,
    csv_options: CsvOptions | None = None,
    dtypes: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read every file into one DataFrame (CSV type inference sees each whole file)."""
    import pandas as pd

    frames = [frame for _, frame in _iter_files(paths, columns, None, csv_options, dtypes)]
    if len(frames) == 1:
        return frames[0]
    if not frames:
        return pd.DataFrame()
    order = list(frames[0].columns)
    return pd.concat([f[order] for f in frames], ignore_index=True)


def column_set_mismatch(a: DataFile, a_cols: list[str], b: DataFile, b_cols: list[str]) -> str:
    """The message for two files of one dataset whose columns differ."""
    only_a = sorted(set(a_cols) - set(b_cols))
    only_b = sorted(set(b_cols) - set(a_cols))
    return (
        f"The file '{b}' has different columns from '{a}' "
        f"(only in the first: {only_a or 'none'}; only in the second: {only_b or 'none'})."
    )


def survey_file(path: DataFile, csv_options: CsvOptions | None = None) -> tuple[list[str], int]:
    """The column names and the number of data rows of one file (Parquet: from its footer).

    Raises:
        InputError: the file cannot be read.
    """
    names, rows, _ = survey_file_groups(path, csv_options)
    return names, rows


def survey_file_groups(
    path: DataFile, csv_options: CsvOptions | None = None
) -> tuple[list[str], int, list[int]]:
    """`survey_file`, and the rows of each Parquet row group (empty for CSV).

    Raises:
        InputError: the file cannot be read.
    """
    if _file_format(path) == "parquet":
        import pyarrow.parquet as pq

        with _reading(path, "Parquet"), _binary(path) as source:
            parquet = pq.ParquetFile(source)
            names = list(parquet.schema_arrow.names)
            meta = parquet.metadata
            groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        _raise_on_duplicates(path, names)
        return names, meta.num_rows, groups
    names, rows = [], 0
    for frame in _iter_csv(path, None, 500_000, csv_options or CsvOptions(), None):
        names = [str(c) for c in frame.columns]
        rows += len(frame)
    return names, rows, []


def parquet_columns(path: DataFile) -> list[str]:
    """The column names of a Parquet file, from its footer.

    Raises:
        InputError: the file is not readable Parquet.
    """
    import pyarrow.parquet as pq

    with _reading(path, "Parquet"), _binary(path) as source:
        return list(pq.ParquetFile(source).schema_arrow.names)


@contextmanager
def _binary(path: DataFile) -> Iterator[Any]:
    """What pyarrow opens: the local path, or an fsspec file for a URL (closed on exit)."""
    if isinstance(path, RowGroups):
        path = path.file
    if not isinstance(path, DataUrl):
        yield path
        return
    handle = path.open()
    try:
        yield handle
    finally:
        handle.close()


def _pandas_source(path: DataFile) -> Any:
    """What pandas reads: the local path, or the URL (pandas opens it through fsspec)."""
    return str(path) if isinstance(path, DataUrl) else path


def _iter_file(
    path: DataFile,
    columns: Sequence[str] | None,
    chunk_rows: int | None,
    options: CsvOptions,
    dtypes: Mapping[str, str] | None,
    arrow: bool = False,
    dictionary: Sequence[str] | None = None,
) -> Iterator[Any]:
    if _file_format(path) == "parquet":
        yield from _iter_parquet(path, columns, chunk_rows, arrow, dictionary)
    else:
        yield from _iter_csv(path, columns, chunk_rows, options, dtypes)


def _iter_parquet(
    path: DataFile,
    columns: Sequence[str] | None,
    chunk_rows: int | None,
    arrow: bool = False,
    dictionary: Sequence[str] | None = None,
) -> Iterator[Any]:
    with _binary(path) as source:
        yield from _iter_parquet_source(path, source, columns, chunk_rows, arrow, dictionary)


def _iter_parquet_source(
    path: DataFile,
    source: Any,
    columns: Sequence[str] | None,
    chunk_rows: int | None,
    arrow: bool = False,
    dictionary: Sequence[str] | None = None,
) -> Iterator[Any]:
    """DataFrames, or with `arrow` (and `chunk_rows`), Arrow record batches with the string
    columns (those in `dictionary`, or all) dictionary-encoded."""
    import pyarrow.parquet as pq

    with _reading(path, "Parquet"):
        # pre_buffer (the default) keeps every row group's prefetched bytes until the file is
        # closed, so memory grew with file size; a buffered stream keeps it at one row group.
        parquet = pq.ParquetFile(source, pre_buffer=False, buffer_size=1 << 20)
        texts = _text_columns(parquet.schema_arrow, columns) if arrow else []
        if dictionary is not None:
            texts = [t for t in texts if t in set(dictionary)]
        rejoin = bool(texts) and not _has_dictionaries(parquet.schema_arrow, columns)
        if texts:  # the same file again, footer reused, reading those columns' dictionaries
            parquet = pq.ParquetFile(
                source,
                metadata=parquet.metadata,
                pre_buffer=False,
                buffer_size=1 << 20,
                read_dictionary=texts,
            )
        arrow_schema = parquet.schema_arrow
    names = list(arrow_schema.names)
    _raise_on_duplicates(path, names)
    _raise_on_missing_columns(path, names, columns)
    selected = list(columns) if columns is not None else None
    yielded = False
    with _reading(path, "Parquet"):
        groups = list(path.groups) if isinstance(path, RowGroups) else None
        if chunk_rows is None:
            whole = groups is None
            table = parquet.read(selected) if whole else parquet.read_row_groups(groups, selected)
            yield table.to_pandas()
            return
        batches = parquet.iter_batches(batch_size=chunk_rows, row_groups=groups, columns=selected)
        if rejoin:
            batches = _rejoined(batches, chunk_rows)
        for batch in batches:
            yielded = True
            yield batch if arrow else batch.to_pandas()
        if not yielded:
            empty = arrow_schema.empty_table().select(selected or names)
            yield empty if arrow else empty.to_pandas()


def _has_dictionaries(schema: pa.Schema, columns: Sequence[str] | None) -> bool:
    import pyarrow as pa

    wanted = set(columns) if columns is not None else None
    return any(pa.types.is_dictionary(f.type) for f in schema if wanted is None or f.name in wanted)


def _rejoined(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[Any]:
    """The batches pyarrow reads without dictionary columns: windows of `rows` rows across
    row groups (the last one shorter). With a dictionary column pyarrow also ends a batch at
    each row-group boundary; the pieces are joined back (as Arrow tables, without copying),
    so that every chunk, and every float sum over one, is the same as `iter_chunks` gives."""
    import pyarrow as pa

    pieces: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        start = 0
        while start < len(batch):
            take = min(rows - held, len(batch) - start)
            pieces.append(batch.slice(start, take))
            held += take
            start += take
            if held == rows:
                yield pieces[0] if len(pieces) == 1 else pa.Table.from_batches(pieces)
                pieces, held = [], 0
    if pieces:
        yield pieces[0] if len(pieces) == 1 else pa.Table.from_batches(pieces)


def _text_columns(schema: pa.Schema, columns: Sequence[str] | None) -> list[str]:
    """The string columns (of `columns`, or all) of a Parquet file's Arrow schema."""
    import pyarrow as pa

    wanted = set(columns) if columns is not None else None
    return [
        f.name
        for f in schema
        if (wanted is None or f.name in wanted)
        and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
    ]


def _iter_csv(
    path: DataFile,
    columns: Sequence[str] | None,
    chunk_rows: int | None,
    options: CsvOptions,
    dtypes: Mapping[str, str] | None,
) -> Iterator[pd.DataFrame]:
    import pandas as pd

    delimiter = options.delimiter or ("\t" if ".tsv" in path.name.lower() else ",")
    header = _csv_header(path, delimiter, options.encoding)
    _raise_on_duplicates(path, header)
    _raise_on_missing_columns(path, header, columns)
    known_dtypes = {c: t for c, t in (dtypes or {}).items() if c in header}
    read_options = dict(
        sep=delimiter,
        encoding=options.encoding,
        usecols=list(columns) if columns is not None else None,
        dtype=known_dtypes or None,
        low_memory=False,
        # In a one-column file an empty line is an empty value (to_csv writes NaN that way);
        # with more columns it is a stray blank line.
        skip_blank_lines=len(header) > 1,
    )
    with _reading(path, "CSV", options.encoding), _csv_source(path, options) as source:
        if chunk_rows is None:
            yield pd.read_csv(source, **read_options)  # type: ignore[call-overload]
            return
        reader = pd.read_csv(source, chunksize=chunk_rows, **read_options)  # type: ignore[call-overload]
        with reader:
            yielded = False
            for frame in reader:
                yielded = True
                yield frame
            if not yielded:
                yield pd.DataFrame({c: pd.Series(dtype="str") for c in (columns or header)})


_COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst")


@contextmanager
def _csv_source(path: DataFile, options: CsvOptions) -> Iterator[Any]:
    """What pandas reads: a local uncompressed file through a line-length bound; otherwise the
    path or URL (pandas decompresses, or opens it through fsspec)."""
    if isinstance(path, RowGroups):
        raise InputError(f"'{path}' is a piece of a Parquet file, not CSV.")
    if isinstance(path, DataUrl) or path.name.lower().endswith(_COMPRESSED):
        yield _pandas_source(path)
        return
    with io.BufferedReader(_BoundedLines(path, options.max_line_bytes), 1 << 20) as handle:
        yield handle


class _BoundedLines(io.RawIOBase):
    """A local file read as is, refusing (InputError) a line longer than `limit` bytes as soon
    as that much of it has been read. Costs a find from each block's ends and a count of its
    line ends (memchr speed), beside the parse."""

    def __init__(self, path: Path, limit: int) -> None:
        self._path, self._limit = path, limit
        self._file = open(path, "rb")  # noqa: SIM115 (closed in close())
        self._run = 0  # bytes since the last line end
        self._lines = 0  # line ends read so far

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._file.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        last = data.rfind(b"\n")
        if last < 0:
            self._run += n
        elif n > self._limit:  # a bound below the block size: every line in it may be too long
            start = 0
            while (end := data.find(b"\n", start)) >= 0:
                self._check(self._run + end - start)
                self._lines += 1
                self._run, start = 0, end + 1
            self._run = n - start
        else:  # a line inside the block is shorter than the block, so than the bound
            self._check(self._run + data.find(b"\n"))
            self._lines += data.count(b"\n")
            self._run = n - last - 1
        self._check(self._run)
        return n

    def _check(self, length: int) -> None:
        if length > self._limit:
            size = (
                f"{self._limit >> 20} MiB" if self._limit >= 1 << 20 else f"{self._limit:,} bytes"
            )
            raise InputError(
                f"The file '{self._path}' has a line longer than {size} "
                f"(line {self._lines + 1:,}); a CSV field that large is refused.",
                hint="Check the quoting there (an unclosed quote runs on to the end of the "
                "file), or store such values outside the CSV.",
            )

    def close(self) -> None:
        self._file.close()
        super().close()


def _csv_header(path: DataFile, delimiter: str, encoding: str) -> list[str]:
    """Parse the header line ourselves: pandas renames duplicates ('a', 'a.1') silently."""
    with _reading(path, "CSV", encoding):
        with (
            _binary(path) as source,
            open(source, "rb") if isinstance(source, Path) else source as raw,
        ):
            head = raw.read(_SNIFF_BYTES)
        if not head:
            raise InputError(
                f"The file '{path}' is empty (0 bytes).",
                hint="A CSV file needs at least a header line naming the columns.",
            )
        if not path.name.lower().endswith((".gz", ".bz2", ".zst")):
            _raise_if_binary(path, head, encoding)
        import pandas as pd

        # header=None keeps the names exactly as written (no 'a.1' renaming of duplicates).
        try:
            first_row = pd.read_csv(
                _pandas_source(path),
                sep=delimiter,
                encoding=encoding,
                header=None,
                nrows=1,
                dtype=str,
                keep_default_na=False,
            )
        except pd.errors.EmptyDataError:
            first_row = pd.DataFrame()
        header = [str(v) for v in first_row.iloc[0]] if len(first_row) else []
    if not header or all(not name.strip() for name in header):
        raise InputError(
            f"The file '{path}' has no header line (it holds only blank lines).",
            hint="The first line of a CSV file must name the columns.",
        )
    if len(header) == 1:
        for other in _OTHER_DELIMITERS:
            if other != delimiter and other in header[0]:
                shown = "\\t" if other == "\t" else other
                raise InputError(
                    f"The file '{path}' looks '{shown}'-delimited: its header is one column "
                    f"named {header[0][:80]!r}.",
                    hint=f"Set the CSV delimiter to '{shown}' (option `delimiter`).",
                )
    return header


def _raise_if_binary(path: DataFile, head: bytes, encoding: str) -> None:
    if head.startswith(b"PAR1"):
        raise InputError(
            f"The file '{path}' is a Parquet file, not CSV text.",
            hint="Rename it with a .parquet suffix.",
        )
    if b"\x00" in head and not encoding.lower().replace("-", "").startswith("utf16"):
        raise InputError(
            f"The file '{path}' looks binary, not CSV text (it contains NUL bytes).",
            hint="Check that the path points at a CSV file; set `encoding` for UTF-16 text.",
        )


def _raise_on_duplicates(path: DataFile, names: Sequence[str]) -> None:
    duplicates = sorted(name for name, n in Counter(names).items() if n > 1)
    if duplicates:
        raise InputError(
            f"The file '{path}' has duplicate column names: {', '.join(map(repr, duplicates))}.",
            hint="Rename the columns so that each name appears once.",
        )


def _raise_on_missing_columns(
    path: DataFile, names: Sequence[str], columns: Sequence[str] | None
) -> None:
    missing = [c for c in columns or () if c not in names]
    if missing:
        raise InputError(
            f"The file '{path}' has no column(s) {', '.join(map(repr, missing))}.",
            hint=f"Its columns are: {', '.join(map(repr, names[:20]))}.",
        )


@contextmanager
def _reading(path: DataFile, kind: str, encoding: str = "utf-8") -> Iterator[None]:
    """Translate the many exceptions pandas and pyarrow raise into one InputError."""
    import pyarrow as pa

    try:
        url = path.file if isinstance(path, RowGroups) else path
        if isinstance(url, DataUrl):
            with credentials(url.url):
                yield
        else:
            yield
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise InputError(
            f"The file '{path}' is not valid {encoding} text "
            f"(it contains the byte 0x{exc.object[exc.start]:02x}).",
            hint="Set `encoding` to the file's encoding, e.g. 'latin-1' or 'cp1252'.",
        ) from exc
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise InputError(
            f"The file '{path}' cannot be opened ({exc.strerror or type(exc).__name__}).",
            hint="Check the path and its permissions.",
        ) from exc
    except LookupError as exc:
        raise InputError(
            f"The encoding '{encoding}' given for '{path}' is unknown.",
            hint="Use a Python codec name such as 'utf-8', 'latin-1' or 'cp1252'.",
        ) from exc
    except (pa.ArrowException, OSError) as exc:
        raise InputError(
            f"The file '{path}' is not a readable {kind} file (truncated or corrupt): "
            f"{_first_line(exc)}.",
            hint="Re-export the file; check that the copy was complete.",
        ) from exc
    except (ValueError, EOFError) as exc:
        raise InputError(
            f"The file '{path}' could not be parsed as {kind}: {_first_line(exc)}.",
            hint="Check the delimiter, quoting and that every row has the header's field count.",
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__).rstrip(".")
