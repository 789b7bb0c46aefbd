"""mlops.jsonable: one encoder for result objects (what --json and stored reports are made of)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlops.jsonable import fields_dict, to_jsonable


class Colour(Enum):
    RED = "red"


class Reason(StrEnum):
    MISSING = "missing"


@dataclass
class Inner:
    x: int

    def to_dict(self) -> dict[str, Any]:
        return {"x": self.x, "twice": 2 * self.x}


@dataclass
class Plain:
    a: float
    b: list[int] = field(default_factory=list)


@dataclass
class Outer:
    name: str
    inner: Inner
    plain: Plain
    inners: list[Inner]
    by_name: dict[str, Inner]


def test_scalars_and_containers() -> None:
    got = to_jsonable(
        {
            "nan": float("nan"),
            "inf": float("-inf"),
            "f": 0.25,
            "np_f": np.float64(0.5),
            "np_i": np.int64(3),
            "np_b": np.bool_(True),
            "arr": np.array([[1, 2], [3, 4]]),
            "arr_nan": np.array([1.0, np.nan]),
            "enum": Colour.RED,
            "strenum": Reason.MISSING,
            "path": Path("a/b.csv"),
            "set": {3, 1, 2},
            "tuple": (1, "x"),
            "ts": pd.Timestamp("2026-06-01T10:00:00Z"),
            "dt": datetime(2026, 6, 1, 10, tzinfo=UTC),
            "d": date(2026, 6, 1),
            "td": timedelta(days=1, hours=2),
            "pd_td": pd.Timedelta(minutes=90),
            1: "int key",
            Colour.RED: "enum key",
        }
    )
    assert got == {
        "nan": None,
        "inf": None,
        "f": 0.25,
        "np_f": 0.5,
        "np_i": 3,
        "np_b": True,
        "arr": [[1, 2], [3, 4]],
        "arr_nan": [1.0, None],
        "enum": "red",
        "strenum": "missing",
        "path": "a/b.csv",
        "set": [1, 2, 3],
        "tuple": [1, "x"],
        "ts": "2026-06-01T10:00:00+00:00",
        "dt": "2026-06-01T10:00:00+00:00",
        "d": "2026-06-01",
        "td": "P1DT2H0M0S",
        "pd_td": "P0DT1H30M0S",
        1: "int key",
        "red": "enum key",
    }
    assert type(got["np_i"]) is int and type(got["np_f"]) is float
    json.dumps(got, allow_nan=False)  # JSON-ready


def test_dataclasses_in_field_order_nested_to_dict_used() -> None:
    obj = Outer("o", Inner(1), Plain(float("nan"), [1]), [Inner(2)], {"k": Inner(3)})
    got = to_jsonable(obj)
    assert list(got) == ["name", "inner", "plain", "inners", "by_name"]
    assert got["inner"] == {"x": 1, "twice": 2}
    assert got["inners"] == [{"x": 2, "twice": 4}]
    assert got["by_name"] == {"k": {"x": 3, "twice": 6}}
    assert got["plain"] == {"a": None, "b": [1]}
    assert fields_dict(Plain(1.5, [2])) == asdict(Plain(1.5, [2]))


def test_what_asdict_gave_is_unchanged_for_finite_values() -> None:
    p = Plain(0.1 + 0.2, [1, 2])
    assert json.dumps(to_jsonable(p)) == json.dumps(asdict(p))
    assert math.isclose(to_jsonable(p)["a"], 0.30000000000000004)


def test_importing_it_loads_nothing_heavy() -> None:
    code = "import sys, mlops.jsonable; print(sorted({'numpy', 'pandas'} & set(sys.modules)))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert p.stdout.strip() == "[]"
