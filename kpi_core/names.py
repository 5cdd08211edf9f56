"""A name in English and Chinese, as every section of the config gives names (kept apart from
kpi_core.config_schema so that the schema modules of single sections can use it too)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

Language = Literal["en", "zh", "both"]


class Names(BaseModel):
    """A name in English and Chinese. Chinese falls back to English, so a config for English-speaking teams
    gives ``name: {en: Sales}`` or just ``name: Sales``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str
    zh: str = ""  # always filled by _chinese_falls_back_to_english; the default only spares a second error

    @model_validator(mode="before")
    @classmethod
    def _chinese_falls_back_to_english(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"en": data, "zh": data}
        if isinstance(data, dict) and data.get("zh") is None and isinstance(data.get("en"), str):
            return {**data, "zh": data["en"]}
        return data

    def in_language(self, language: Language) -> str:
        if language == "both":
            # a name without its own Chinese is shown once, not as "Sales / Sales"
            return self.en if self.zh == self.en else f"{self.en} / {self.zh}"
        return self.zh if language == "zh" else self.en
