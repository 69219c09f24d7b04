"""Building blocks shared by the scenario models: the base classes and field types."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64),
    Field(description="identifier: lower case letters, digits and underscores"),
]
Text = Annotated[str, StringConstraints(max_length=4000)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Sourced(_Model):
    source: Text | None = Field(
        default=None, description="where the numbers come from: publication, date, link"
    )
    assumption: Text | None = Field(
        default=None, description="for a modelling choice not taken from the record: why"
    )
