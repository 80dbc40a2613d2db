"""One kind of emulated resource, kept as moto keeps a service's resources: by ARN, found by name too.

Every Bedrock resource the emulator keeps (customization jobs, custom models, deployments, provisioned
throughput, evaluation jobs) is created, found by its name or ARN, listed and deleted the same way, and
a Create that repeats a clientRequestToken returns the resource the token first created.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Generic, Protocol, TypeVar

from bedrock_provider.emulator.errors import not_found


class Resource(Protocol):
    @property
    def arn(self) -> str: ...

    @property
    def name(self) -> str: ...


R = TypeVar("R", bound=Resource)


class ResourceTable(Generic[R]):
    """The resources of one kind, by ARN, with the not-found answer Bedrock gives for that kind.

    ``kind`` and ``hint`` make that answer: "The {kind} {identifier} was not found. {hint}".
    ``names``: how a resource is found by name: "indexed" where names never change, "scanned" (the
    oldest of that name first) where an update may rename a resource. An identifier that matches
    ``arn_pattern`` is looked up as an ARN only.
    """

    def __init__(
        self, kind: str, hint: str, *, names: str = "indexed", arn_pattern: re.Pattern[str] | None = None
    ) -> None:
        if names not in ("indexed", "scanned"):
            raise ValueError(f"names must be indexed or scanned, got {names!r}")
        self.kind = kind
        self.hint = hint
        self.names = names
        self.arn_pattern = arn_pattern
        self._by_arn: dict[str, R] = {}
        self._by_name: dict[str, R] = {}
        self._by_token: dict[str, str] = {}

    def __contains__(self, arn: object) -> bool:
        return arn in self._by_arn

    def __iter__(self) -> Iterator[R]:
        return iter(list(self._by_arn.values()))

    def __len__(self) -> int:
        return len(self._by_arn)

    def arns(self) -> list[str]:
        return list(self._by_arn)

    def add(self, resource: R, token: str | None = None) -> None:
        """Keep a new resource; ``token`` is the clientRequestToken that created it."""
        self._by_arn[resource.arn] = resource
        if self.names == "indexed":
            self._by_name[resource.name] = resource
        if token is not None:
            self._by_token[token] = resource.arn

    def remove(self, resource: R) -> None:
        del self._by_arn[resource.arn]
        self._by_name.pop(resource.name, None)

    def clear(self) -> None:
        self._by_arn.clear()
        self._by_name.clear()
        self._by_token.clear()

    def create(self, token: str | None, build: Callable[[], R]) -> tuple[R, bool]:
        """A Create: (the resource, whether it is new). A clientRequestToken seen before returns the
        resource it created, as AWS does; otherwise ``build`` checks the request and makes a new one."""
        replayed = self.replayed(token)
        if replayed is not None:
            return replayed, False
        resource = build()
        self.add(resource, token)
        return resource, True

    def replayed(self, token: str | None) -> R | None:
        """The resource an earlier Create with this clientRequestToken made, while it still exists."""
        if token is None:
            return None
        arn = self._by_token.get(token)
        return self._by_arn.get(arn) if arn is not None else None

    def named(self, name: str) -> R | None:
        if self.names == "indexed":
            return self._by_name.get(name)
        return next((item for item in self._by_arn.values() if item.name == name), None)

    def find(self, identifier: str) -> R | None:
        """The resource of that ARN or name, or None."""
        found = self._by_arn.get(identifier)
        if found is None and not (self.arn_pattern and self.arn_pattern.match(identifier)):
            found = self.named(identifier)
        return found

    def require(self, identifier: str) -> R:
        """The resource of that ARN or name, or Bedrock's ResourceNotFoundException."""
        found = self.find(identifier)
        if found is None:
            raise not_found(f"The {self.kind} {identifier} was not found. {self.hint}")
        return found
