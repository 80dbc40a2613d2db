"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws


@pytest.fixture(scope="module")
def moto_aws() -> Iterator[Any]:
    """One moto for the module (starting it costs more than a test); tests reset it as they need.

    Every hook opens its own boto3 session, and each session would parse the service models again:
    sharing botocore's loader between sessions keeps that to once per module.
    """
    import botocore.loaders
    import botocore.session

    shared = botocore.loaders.create_loader()
    with pytest.MonkeyPatch.context() as patch, mock_aws() as mock:
        patch.setattr(botocore.session, "create_loader", lambda *args, **kwargs: shared)
        yield mock
