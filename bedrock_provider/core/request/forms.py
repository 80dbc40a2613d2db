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

from bedrock_provider.core.catalog import (
    HyperparameterSpec,
    ModelFamily,
    base_model_problem,
    family_for,
    resolve,
)


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
    """A markdown list, one line per offered model: each hyperparameter it documents, its range and
    Bedrock's default (what the model trains with when the name is left out).

    A list rather than a table: the trigger form's help column is narrow, and a table of every name
    overflows it."""
    families = _families(model_titles)
    lines = []
    for model_id, title in model_titles.items():
        table = families[model_id].hyperparameters
        ranges = ", ".join(f"{name} {_range_text(spec)}{_default_text(spec)}" for name, spec in table.items())
        lines.append(f"- **{title}**: {ranges}")
    return "\n".join(lines)


def _default_text(spec: HyperparameterSpec) -> str:
    return f" (default {format(spec.default, 'g')})" if spec.default is not None else ""


def models_offered_in(
    model_titles: Mapping[str, str], region: str, customization_types: Iterable[str]
) -> dict[str, str]:
    """The models of ``model_titles`` that Bedrock customizes in ``region`` in at least one of the
    customization types, as the catalog (core/catalog/, each row sourced) says: a form offers only
    what the customize task would send. Raises ValueError when none is left, naming the Region."""
    types = tuple(customization_types)
    offered = {}
    for model_id, title in model_titles.items():
        ref = resolve(model_id)
        if ref is not None and any(base_model_problem(ref, kind, region) is None for kind in types):
            offered[model_id] = title
    if not offered:
        raise ValueError(
            f"none of {', '.join(model_titles)} is customized ({', '.join(types)}) in {region}: offer "
            "models of that Region, or use a connection of another Region"
        )
    return offered


def explained_pattern(explanation: str, pattern: str) -> str:
    """A JSON-schema pattern whose refusal reads the explanation before the expression.

    Airflow's form quotes jsonschema's message, "'<value>' does not match '<pattern>'", after the field's
    name. Python's ``(?#...)`` is a comment the match ignores, so the message shows the sentence first.
    Only for rules the browser form does not read itself (under ``allOf``): JavaScript has no comments
    in a RegExp."""
    if ")" in explanation:
        raise ValueError(f"{explanation!r}: a (?#...) comment ends at the first ')'; leave it out")
    return f"(?#{explanation}){pattern}"


def hyperparameter_help(spec_name: str, model_id: str) -> str:
    """One sentence for a single hyperparameter Param: what it is for this model, and its range."""
    family = family_for(model_id)
    if family is None or spec_name not in family.hyperparameters:
        raise ValueError(f"{model_id} documents no hyperparameter {spec_name}")
    spec = family.hyperparameters[spec_name]
    default = f"; Bedrock's default {format(spec.default, 'g')}" if spec.default is not None else ""
    return f"Sent to Bedrock as {spec_name}: {_range_text(spec)} for {family.title}{default}."


def parse_time_region(environ: Mapping[str, str], conn_id: str, fallback: str) -> str:
    """The Region of connection ``conn_id`` as a DAG file can know it while it is parsed, without a
    metadata-database call: ``region_name`` in the extra of its ``AIRFLOW_CONN_<ID>`` environment
    variable (JSON or URI form), else ``AWS_DEFAULT_REGION``, else ``fallback``. A form built from it
    offers that Region's models; the run checks the connection's actual Region again before any job."""
    import json
    from urllib.parse import parse_qs, urlsplit

    value = environ.get(f"AIRFLOW_CONN_{conn_id.upper()}", "").strip()
    region: object = None
    if value.startswith("{"):
        try:
            extra = json.loads(value).get("extra") or {}
        except (ValueError, AttributeError):
            extra = {}
        if isinstance(extra, str):
            try:
                extra = json.loads(extra)
            except ValueError:
                extra = {}
        region = extra.get("region_name") if isinstance(extra, dict) else None
    elif value:
        found = parse_qs(urlsplit(value).query).get("region_name")
        region = found[0] if found else None
    return str(region or environ.get("AWS_DEFAULT_REGION") or fallback)
