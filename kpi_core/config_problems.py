"""Problems of a config that fails the schema, told the way a person fixes them: pydantic's errors at readable
field paths, "did you mean" for a typo, and the part of the config that is valid, so that kpi_core.config can run
its cross-checks in the same round instead of after the schema errors are fixed."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable
from typing import Annotated, Any, Union

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from kpi_core.config_schema import DEFAULT_COMPETENCIES, Config
from kpi_core.errors import ConfigProblem


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'orders'?)`` when ``name`` looks like a typo of a known name, else nothing."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def schema_problem(raw: Any, detail: ErrorDetails) -> ConfigProblem:
    """A pydantic error as a problem at a readable path; an unknown field names the closest known one."""
    path = _readable_path(raw, detail["loc"])
    if detail["type"] == "extra_forbidden":
        field = str(detail["loc"][-1])
        known = _fields_at(detail["loc"][:-1])
        hint = did_you_mean(field, known) or (f" (known: {', '.join(known)})" if known else "")
        return ConfigProblem(path, f"unknown field {field!r}{hint}")
    return ConfigProblem(path, detail["msg"].removeprefix("Value error, "))


def _fields_at(loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the model at ``loc`` (pydantic's path into Config), or [] if there is none."""
    node: Any = Config
    for step in loc:
        node = _unwrap(node, step)
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(str(step)) if isinstance(step, str) else None
            node = field.annotation if field is not None else _unwrap(node, step)
        elif typing.get_origin(node) is list and isinstance(step, int):
            node = typing.get_args(node)[0]
        elif typing.get_origin(node) is dict:
            node = typing.get_args(node)[1]
    node = _unwrap(node, None)
    return list(node.model_fields) if isinstance(node, type) and issubclass(node, BaseModel) else []


def _unwrap(node: Any, step: int | str | None) -> Any:
    """``Annotated[X, ...]`` -> X; ``X | None`` -> X; a union of models -> the one whose ``kind`` is ``step``."""
    while True:
        if typing.get_origin(node) is Annotated:
            node = typing.get_args(node)[0]
            continue
        members = [member for member in typing.get_args(node) if member is not type(None)]
        if typing.get_origin(node) in (Union, types.UnionType) and members:
            tagged = [
                member
                for member in members
                if isinstance(member, type)
                and issubclass(member, BaseModel)
                and "kind" in member.model_fields
                and step in typing.get_args(member.model_fields["kind"].annotation)
            ]
            if len(members) == 1 or tagged:
                node = tagged[0] if tagged else members[0]
                continue
        return node


def valid_parts(raw: dict[str, Any]) -> Config:
    """A Config of the items of ``raw`` that pass the schema on their own (each list item and each mapping
    value is validated alone), so that the cross-checks can run beside the schema's problems."""
    parts: dict[str, Any] = {}
    for name, field in Config.model_fields.items():
        assert field.annotation is not None  # every field of Config is annotated
        if name not in raw and not field.is_required():  # a list with a non-empty default (competencies) keeps it
            parts[name] = field.get_default(call_default_factory=True)
            continue
        adapter: TypeAdapter[Any] = TypeAdapter(field.annotation)
        value, origin = raw.get(name), typing.get_origin(field.annotation)
        if origin is list:
            items = value if isinstance(value, list) else []
            parts[name] = [item for piece in items for item in _validated(adapter, [piece]) or []]
        elif origin is dict:
            entries = value.items() if isinstance(value, dict) else []
            parts[name] = {k: v for key, piece in entries for k, v in (_validated(adapter, {key: piece}) or {}).items()}
        else:  # a single section (roles): all or its default
            valid = _validated(adapter, value) if value is not None else None
            parts[name] = valid if valid is not None else field.get_default(call_default_factory=True)
    return Config.model_construct(**parts)


def _validated(adapter: TypeAdapter[Any], value: Any) -> Any:
    """``value`` validated by ``adapter``, or None when it fails (its problems are reported already)."""
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


def declared_keys(raw: dict[str, Any]) -> dict[str, set[str]]:
    """The keys of the teams, measures, KPIs, positions and competencies (and the users of the people) that
    ``raw`` declares, whether or not they pass the schema."""
    declared = {
        section: {
            item[field]
            for item in raw.get(section) or []
            if isinstance(item, dict) and isinstance(item.get(field), str)
        }
        if isinstance(raw.get(section), list)
        else set()
        for section, field in (
            ("teams", "key"),
            ("measures", "key"),
            ("kpis", "key"),
            ("positions", "key"),
            ("competencies", "key"),
            ("people", "user"),
        )
    }
    scorecards = raw.get("scorecards")
    declared["scorecards"] = (
        {key for key in scorecards if isinstance(key, str)} if isinstance(scorecards, dict) else set()
    )
    if "competencies" not in raw:  # the default eight
        declared["competencies"] = {competency.key for competency in DEFAULT_COMPETENCIES}
    return declared


def _readable_path(raw: Any, loc: tuple[int | str, ...]) -> str:
    """``('kpis', 3, 'target')`` -> ``kpis.on_time_delivery.target``: items are named by their key (a
    scorecard item by its kpi, a person by their user)."""
    parts: list[str] = []
    node = raw
    tagged: Any = None
    for step in loc:
        if isinstance(step, int) and isinstance(node, list) and 0 <= step < len(node):
            item = node[step]
            key = item.get("key", item.get("kpi", item.get("user"))) if isinstance(item, dict) else None
            parts.append(str(key) if isinstance(key, str) else f"[{step}]")
            node = item
            continue
        if isinstance(step, str) and step.startswith(("function-", "float", "dict[", "[key]")):
            continue  # pydantic's union-branch markers say nothing to the reader
        if isinstance(node, dict) and node is not tagged and step == node.get("kind"):
            tagged = node
            continue  # the branch of a discriminated union (a formula's kind), already in the YAML
        parts.append(str(step))
        node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts)
