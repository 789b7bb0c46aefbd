from pydantic import BaseModel, ConfigDict, model_validator


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)


class Switchable(Section):
    """A section with an `enabled` switch that may also be written as a bare true/false."""

    @model_validator(mode="before")
    @classmethod
    def _bool_shorthand(cls, v: object) -> object:
        if isinstance(v, bool):
            return {"enabled": v}
        return v
