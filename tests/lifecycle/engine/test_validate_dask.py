"""`mlops validate` on the Dask engine: the local engine's report, including uniqueness and
duplicate rows that only show across files, with global row numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from helpers.compare import assert_same

SCHEMA = """
schema:
  columns:
    id: {dtype: int, unique: true}
    age: {dtype: int, min: 18, max: 90}
    plan: {dtype: category, allowed: [basic, pro]}
    score: {dtype: float, max_missing: 0.01}
  no_duplicate_rows: true
validate: {sample_limit: 5, chunk_rows: 1000}
"""


def _dataset(root: Path) -> Path:
    rng = np.random.default_rng(3)
    n = 6000
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "age": rng.integers(10, 95, n),
            "plan": rng.choice(["basic", "pro", "gold"], n, p=[0.5, 0.49, 0.01]),
            "score": np.where(rng.random(n) < 0.02, np.nan, rng.normal(size=n)),
        }
    )
    frame.loc[4500:4510, "id"] = np.arange(100, 111)  # ids of file 0 repeated in file 2
    frame.iloc[5000:5004] = frame.iloc[200:204].to_numpy()  # whole rows repeated across files
    data = root / "lake"
    data.mkdir(parents=True)
    for i, (start, stop) in enumerate([(0, 2500), (2500, 4000), (4000, 6000)]):
        frame.iloc[start:stop].to_parquet(data / f"part-{i}.parquet", index=False)
    (root / "mlops.yaml").write_text(SCHEMA)
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
