"""The `remote:` section of mlops.yaml: where the store is shared (docs/remote.md).

    remote:
      default: origin
      remotes:
        origin:
          url: s3://${MLOPS_BUCKET}/churn
          endpoint_url: ${AWS_ENDPOINT_URL}   # only for S3-compatible servers (MinIO, Ceph)

Credentials never go here: each backend reads its usual environment and files.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from mlops.config.base import Section

REMOTE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class RemoteSpec(Section):
    url: str = Field(
        ..., description="s3://bucket/prefix, gs://..., az://..., file:///shared/dir or a path"
    )
    endpoint_url: str | None = Field(
        None, description="S3-compatible server (MinIO, Ceph, a local test server); not for AWS"
    )

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if "@" in v.split("://", 1)[-1].split("/", 1)[0]:
            raise ValueError("credentials do not belong in a remote URL; use the backend's env")
        return v


class RemoteConfig(Section):
    default: str | None = Field(
        None, description="the remote push, fetch and pull use without --remote"
    )
    remotes: dict[str, RemoteSpec] = Field(
        default_factory=dict, description="remotes by name (`mlops remote add` adds more)"
    )
    auto_push: bool = Field(
        False,
        description="models promote, evaluate --promote and retrain push to the default remote "
        "after they succeed (as --push does)",
    )

    @field_validator("remotes")
    @classmethod
    def _names(cls, v: dict[str, RemoteSpec]) -> dict[str, RemoteSpec]:
        import re

        for name in v:
            if not re.fullmatch(REMOTE_NAME, name):
                raise ValueError(f"not a remote name: {name!r}")
        return v

    @model_validator(mode="after")
    def _default_exists(self) -> RemoteConfig:
        if self.default is not None and self.default not in self.remotes:
            raise ValueError(f"default remote {self.default!r} is not among remotes")
        return self
