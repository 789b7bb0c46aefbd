"""`mlops validate` on the Dask engine: the local engine's report, including uniqueness and
duplicate rows that only show across files, with global row numbers."""

from __future__ import annotations

from pathlib import Path

from helpers.compare import assert_same
from helpers.engine_data import VALIDATE_SCHEMA, validation_frame


def _dataset(root: Path) -> Path:
    frame = validation_frame()
    data = root / "lake"
    data.mkdir(parents=True)
    for i, (start, stop) in enumerate([(0, 2500), (2500, 4000), (4000, 6000)]):
        frame.iloc[start:stop].to_parquet(data / f"part-{i}.parquet", index=False)
    (root / "mlops.yaml").write_text(VALIDATE_SCHEMA)
    return data


def test_validate_on_dask_matches_local(tmp_path: Path, dask_engine) -> None:
    from mlops.config import load_config
    from mlops.lifecycle.validate import validate

    data = _dataset(tmp_path)
    config = load_config(tmp_path / "mlops.yaml")
    local = validate(config, None, [str(data)]).report.to_dict()
    dask = validate(config, None, [str(data)], engine=dask_engine).report.to_dict()
    assert_same(local, dask)
    by_check = {(c["check"], c["column"]): c for c in dask["checks"]}
    unique = by_check[("unique", "id")]
    assert unique["failing_rows"] == 15  # 11 moved ids + 4 repeated rows
    assert [s["row"] for s in unique["samples"]] == [4500, 4501, 4502, 4503, 4504]
    assert by_check[("no_duplicate_rows", None)]["failing_rows"] == 4
    assert not dask["passed"]
