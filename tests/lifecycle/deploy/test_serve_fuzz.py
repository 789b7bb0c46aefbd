"""Hostile and random request bodies to /predict and /invocations: every answer is 200 or a
4xx in the documented error shape, never a 500 (the parser and the model path hold)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("httpx", reason="httpx (for FastAPI's TestClient) is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from mlops.lifecycle.deploy import create_app, load_from_store  # noqa: E402

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["NaN", "Infinity", "", "1e999", "true", "yes", "2026-01"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def mutated_records(draw: st.DrawFn, rows: list[dict[str, Any]]) -> bytes:
    """Valid records with a few values replaced by random ones (or a column dropped), as one of
    the body shapes the server accepts."""
    picked = [dict(r) for r in draw(st.lists(st.sampled_from(rows), min_size=1, max_size=4))]
    for _ in range(draw(st.integers(0, 3))):
        row = draw(st.sampled_from(picked))
        key = draw(st.sampled_from(sorted(row)))
        if draw(st.booleans()):
            row[key] = draw(values)
        else:
            row.pop(key)
    columns = sorted({k for r in picked for k in r})
    shape = draw(st.sampled_from(["records", "dataframe_records", "dataframe_split", "inputs"]))
    if shape == "dataframe_split":
        body: Any = {
            "dataframe_split": {
                "columns": columns,
                "data": [[r.get(c) for c in columns] for r in picked],
            }
        }
    else:
        body = {shape: picked}
    return json.dumps(body, default=str).encode()


raw_bodies = st.one_of(
    st.binary(max_size=80),
    st.sampled_from(
        [
            b"[" * 5000 + b"]" * 5000,
            b'{"records": [{"age": 1e999}]}',
            b'{"records": [{"age": Infinity}]}',
            b'{"dataframe_split": {"columns": ["a", "a"], "data": [[1, 2]]}}',
            b'{"instances": 5}',
            b'{"records": "x"}',
            b"null",
        ]
    ),
    values.map(lambda v: json.dumps(v, default=str).encode()),
)


def _check(client: TestClient, path: str, body: bytes, content_type: str) -> None:
    r = client.post(path, content=body, headers={"Content-Type": content_type})
    assert r.status_code in (200, 400, 413, 415, 422), (r.status_code, r.text, body[:300])
    if r.status_code != 200:
        assert "error" in r.json(), r.text


@pytest.fixture
def client(project):
    with project.store() as store:
        handle = load_from_store(store, store.resolve("churn"))
    with TestClient(create_app(handle), raise_server_exceptions=False) as c:
        yield c


@settings(max_examples=150)
@given(data=st.data())
def test_mutated_records_never_answer_500(client, project, data) -> None:
    rows = json.loads(project.batch.head(20).to_json(orient="records"))
    body = data.draw(mutated_records(rows))
    path = "/invocations" if b'"records"' not in body[:12] else "/predict"
    _check(client, path, body, "application/json")


@settings(max_examples=100)
@given(body=raw_bodies, path=st.sampled_from(["/predict", "/invocations"]))
def test_random_bodies_never_answer_500(client, body: bytes, path: str) -> None:
    _check(client, path, body, "application/json")
    if path == "/invocations":
        _check(client, path, body, "text/csv")
