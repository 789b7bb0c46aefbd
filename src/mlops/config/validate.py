from __future__ import annotations

from pydantic import Field

from mlops.config.base import Section


class ValidateConfig(Section):
    """`mlops validate`: the schema itself is the top-level `schema:` key."""

    checks_module: str | None = Field(
        None,
        description="Python module (importable from the project directory) that registers custom checks",
    )
    sample_limit: int = Field(20, ge=0, le=10_000, description="failing values shown per check")
    chunk_rows: int = Field(500_000, ge=1_000, description="rows read per chunk (bounds memory)")
    infer_margin: float = Field(
        0.1, ge=0, le=10, description="`--infer`: widen numeric ranges by this fraction"
    )
    infer_max_categories: int = Field(
        50, ge=1, description="`--infer`: allowed-value sets up to this cardinality"
    )
