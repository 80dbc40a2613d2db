"""The host name a process of the local stack reports to Airflow (``[core] hostname_callable``).

On one machine every Celery worker and every triggerer would report the same host name, and the task
instances and triggerer jobs of the REST API could not tell them apart. The CeleryExecutor stack
starts each worker and triggerer with its component name in ``BEDROCK_STACK_COMPONENT``: the host name
becomes ``<component>.<machine's name>`` (``celery-worker-2.myhost``), as it would be on a machine each.
Their log servers are off: the task and trigger logs are files on this machine, which the api-server
reads directly.
"""

from __future__ import annotations

import os
import socket

COMPONENT_VARIABLE = "BEDROCK_STACK_COMPONENT"


def component_hostname() -> str:
    component = os.environ.get(COMPONENT_VARIABLE)
    return hostname_of(component) if component else socket.gethostname()


def hostname_of(component: str) -> str:
    return f"{component}.{socket.gethostname()}"


def component_of(hostname: str | None) -> str | None:
    """The component a host name of component_hostname() names; None for any other host name."""
    if not hostname or "." not in hostname:
        return None
    component, _, machine = hostname.partition(".")
    return component if machine == socket.gethostname() else None
