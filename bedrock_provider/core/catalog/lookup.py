"""Looking a model up in the catalog: which row an id, a versioned id, an ARN or an inference profile
names, and the tables of that row."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bedrock_provider.core.catalog.rows import FAMILIES
from bedrock_provider.core.catalog.shapes import (
    FINE_TUNING,
    GEO_PREFIXES,
    REINFORCEMENT_FINE_TUNING,
    HyperparameterSpec,
    ModelFamily,
)


@dataclass(frozen=True)
class ModelRef:
    """A model identifier resolved against the catalog."""

    identifier: str
    family: ModelFamily
    model_id: str  # bare id, e.g. "amazon.titan-text-express-v1"
    version: str  # "" or the suffix given, e.g. ":0:8k"
    region: str | None = None  # the Region of a foundation-model ARN
    geo_prefix: str | None = None  # "us." for an inference profile id

    @property
    def versioned_id(self) -> str:
        return self.model_id + self.version

    @property
    def customizable_id(self) -> str:
        """The id Bedrock lists for customization (first version of the row)."""
        return self.model_id + (self.family.versions[0] if self.family.versions else "")


_BY_ID: dict[str, ModelFamily] = {model_id: family for family in FAMILIES for model_id in family.model_ids}


def _split_arn(text: str) -> tuple[str | None, str] | None:
    """(Region, model id) of a foundation-model or inference-profile ARN; None for other ARNs."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[2] != "bedrock":
        return None
    resource = parts[5]
    for kind in ("foundation-model/", "inference-profile/"):
        if resource.startswith(kind):
            return parts[3] or None, resource.removeprefix(kind)
    return None


def resolve(identifier: object) -> ModelRef | None:
    """The catalog row of a model id, a versioned id, a foundation-model ARN or an inference profile.

    Only a whole id, or a ':'-qualified version of it, matches: 'v1' never claims a future 'v10'.
    None for anything else (custom models, models this catalog does not know).
    """
    if not isinstance(identifier, str):
        return None
    text = identifier.strip().lower()
    region: str | None = None
    if text.startswith("arn:"):
        split = _split_arn(text)
        if split is None:
            return None
        region, text = split
    geo: str | None = None
    for prefix in GEO_PREFIXES:
        if text.startswith(prefix):
            geo, text = prefix, text[len(prefix) :]
            break
    model_id, colon, version = text.partition(":")
    family = _BY_ID.get(model_id)
    if family is None:
        return None
    return ModelRef(identifier, family, model_id, colon + version, region, geo)


def family_for(identifier: object) -> ModelFamily | None:
    """The row of a base model (not of a geo-prefixed inference profile, which is not a base model)."""
    ref = resolve(identifier)
    return ref.family if ref is not None and ref.geo_prefix is None else None


def id_forms(family: ModelFamily, region: str = "us-east-1", partition: str = "aws") -> Iterator[str]:
    """Every form of the row's ids: bare, versioned, their foundation-model ARNs and the teacher profiles."""
    for model_id in family.model_ids:
        for version in ("", *family.versions):
            yield model_id + version
            yield f"arn:{partition}:bedrock:{region}::foundation-model/{model_id}{version}"
        for geo in family.teacher_profiles:
            yield f"{geo}{model_id}{family.versions[-1] if family.versions else ''}"


def supported_customization_types(base_model_id: str) -> frozenset[str] | None:
    """Customization types the catalog lists for this base model, or None when the model is not in it."""
    family = family_for(base_model_id)
    return family.customization_types if family is not None else None


def table_for(family: ModelFamily, customization_type: str = FINE_TUNING) -> Mapping[str, HyperparameterSpec]:
    """The family's hyperparameter table for that customization type (the fine-tuning one otherwise)."""
    customization = family.customizations.get(customization_type)
    return customization.hyperparameters if customization is not None else family.hyperparameters


def rft_hyperparameters(identifier: object) -> Mapping[str, HyperparameterSpec] | None:
    """The reinforcement fine-tuning hyperparameter table of a base model (botocore's RFTHyperParameters
    bounds), or None when the catalog lists no REINFORCEMENT_FINE_TUNING for it."""
    family = family_for(identifier)
    customization = family.customizations.get(REINFORCEMENT_FINE_TUNING) if family is not None else None
    return customization.hyperparameters if customization is not None else None
