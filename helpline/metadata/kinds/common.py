"""Building blocks shared by every metadata kind: names, labels per language, the kind base class."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

LANGUAGES = ("en", "zh_CN")

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=63)]
"""An identifier: lower-case ASCII letters, digits and underscores, starting with a letter."""

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=63)]
"""A category code; usable as a bare word in the rule language (``customer.tier == gold``)."""


class Strict(BaseModel):
    """Base of every metadata model: unknown properties are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)


class Label(Strict):
    """Text shown to people, per language. ``en`` is required; ``zh_CN`` is what the centre's staff read."""

    en: str = Field(min_length=1)
    zh_CN: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_plain_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"en": value}
        return value

    def get(self, language: str) -> str:
        """The label in ``language``, falling back to English."""
        if language == "zh_CN" and self.zh_CN:
            return self.zh_CN
        return self.en


class MetaObject(Strict):
    """Common header of every metadata object: kind, name, label, description."""

    kind: str
    name: Name
    label: Label | None = None
    description: str | None = None

    def display_name(self, language: str = "en") -> str:
        return self.label.get(language) if self.label else self.name
