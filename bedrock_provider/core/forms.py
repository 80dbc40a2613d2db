"""JSON schemas and help text for Airflow trigger forms, built from the hyperparameter tables.

Airflow validates each Param on its own with JSON Schema, before a run exists: a schema cannot make
one field's range depend on another field (the base model). So the form's hyperparameters field gets
the names every offered model documents and, per name, the widest documented range; a help table
lists each model's own ranges; and the exact check (the chosen model's range) runs in
``check_customization_conf`` before any job is submitted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bedrock_provider.core.catalog import HyperparameterSpec, ModelFamily, family_for


def _families(model_ids: Iterable[str]) -> dict[str, ModelFamily]:
    families = {}
    for model_id in model_ids:
        family = family_for(model_id)
        if family is None:
            raise ValueError(f"{model_id}: no hyperparameter table for this model; it cannot be offered")
        families[model_id] = family
    return families


def _number(value: float, kind: type) -> int | float:
    return int(value) if kind is int else float(value)


def _value_schema(specs: list[HyperparameterSpec]) -> dict[str, Any]:
    """The widest range of one hyperparameter over the models that document it."""
    integer = all(spec.kind is int for spec in specs)
    kind: type = int if integer else float
    schema: dict[str, Any] = {"type": "integer" if integer else "number"}
    minimums = [spec.minimum for spec in specs]
    maximums = [spec.maximum for spec in specs]
    # A bound only where every model documents one (RFT's maxPromptLength has none).
    if None not in minimums:
        schema["minimum"] = _number(min(m for m in minimums if m is not None), kind)
    # The documented maximum even where the quota can be raised (Llama's epochCount): a form that
    # refuses 500 epochs at once is worth more than one that lets a raised quota through.
    if None not in maximums:
        schema["maximum"] = _number(max(m for m in maximums if m is not None), kind)
    specials = sorted({value for spec in specs for value in spec.special_values})
    if specials:
        return {"anyOf": [schema, {"type": "string", "enum": specials}]}
    return schema


def hyperparameters_schema(model_ids: Iterable[str]) -> dict[str, Any]:
    """Param schema keywords for a hyperparameters object offered with these base models."""
    by_name: dict[str, list[HyperparameterSpec]] = {}
    for family in _families(model_ids).values():
        for name, spec in family.hyperparameters.items():
            by_name.setdefault(name, []).append(spec)
    return {
        "type": "object",
        "minProperties": 1,
        "properties": {name: _value_schema(specs) for name, specs in sorted(by_name.items())},
        "additionalProperties": False,
    }


def _range_text(spec: HyperparameterSpec) -> str:
    def number(value: float | None) -> str:
        return "any" if value is None else format(_number(value, spec.kind), "g")

    if spec.choices:
        return "/".join(spec.choices)
    text = number(spec.minimum) if spec.minimum == spec.maximum else f"{number(spec.minimum)}–"
    if spec.minimum != spec.maximum:
        text += number(spec.maximum)
    if spec.special_values:
        text += " or " + "/".join(spec.special_values)
    return text


def hyperparameter_ranges_markdown(model_titles: Mapping[str, str]) -> str:
    """A markdown list, one line per offered model: each hyperparameter it documents and its range.

    A list rather than a table: the trigger form's help column is narrow, and a table of every name
    overflows it."""
    families = _families(model_titles)
    lines = []
    for model_id, title in model_titles.items():
        table = families[model_id].hyperparameters
        ranges = ", ".join(f"{name} {_range_text(spec)}" for name, spec in table.items())
        lines.append(f"- **{title}**: {ranges}")
    return "\n".join(lines)


def hyperparameter_help(spec_name: str, model_id: str) -> str:
    """One sentence for a single hyperparameter Param: what it is for this model, and its range."""
    family = family_for(model_id)
    if family is None or spec_name not in family.hyperparameters:
        raise ValueError(f"{model_id} documents no hyperparameter {spec_name}")
    spec = family.hyperparameters[spec_name]
    default = f"; Bedrock's default {format(spec.default, 'g')}" if spec.default is not None else ""
    return f"Sent to Bedrock as {spec_name}: {_range_text(spec)} for {family.title}{default}."
