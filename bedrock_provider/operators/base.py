"""What every operator and sensor of this provider shares, written once.

The shape is the Amazon provider's AwsBaseOperator and AwsBaseSensor: the four connection parameters
taken by one constructor, ``aws_template_fields``, and a ``hook`` made from ``aws_hook_class`` on
first use. Unlike there, the hook class is named by its import path, so that a DAG file that only
builds operators imports no AWS SDK. Also here: the helpers the waiting operators and sensors share
(task identity, the customization trigger, the trigger's event, failure messages).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import fields
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseOperator, BaseSensorOperator
from airflow.sdk.exceptions import AirflowException

from bedrock_provider.core.names import TaskIdentity, run_job_name, sanitize_name
from bedrock_provider.core.waiting import states
from bedrock_provider.hooks import aws_hook_kwargs
from bedrock_provider.operators.artifacts import ArtifactStore
from bedrock_provider.operators.lineage import OpenLineageMixin

if TYPE_CHECKING:
    import jinja2
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.sdk import DAG, Context
    from airflow.triggers.base import BaseTrigger

    from bedrock_provider.hooks.customization import BedrockCustomizationHook

AWS_TEMPLATE_FIELDS = ("aws_conn_id", "region_name", "verify", "botocore_config")
HookT = TypeVar("HookT", bound=Any)
RequestT = TypeVar("RequestT")

# One default for every waiting operator and sensor of this provider: wait in the triggerer. The
# Amazon-named drop-in classes keep the Amazon provider's ([operators] default_deferrable).
DEFERRABLE_DEFAULT = True


def aws_template_fields(*fields: str) -> tuple[str, ...]:
    """A class's templated fields followed by the connection's (the Amazon provider's helper's role)."""
    return (*fields, *AWS_TEMPLATE_FIELDS)


class BedrockAwsMixin(OpenLineageMixin):
    """Connection parameters as the Amazon provider's operators take them, and a lazy hook.

    Every operator and sensor of the provider has it, and with it OpenLineage lineage
    (``get_openlineage_facets_on_complete``) from what it records when it finishes.

    The hook (and with it boto3) is imported on first use, not when a DAG file is parsed.
    """

    # The import path of the hook ``hook`` makes; a path, not the class, so nothing is imported here.
    aws_hook_class: str = "bedrock_provider.hooks.customization.BedrockCustomizationHook"
    aws_conn_id: str | None
    region_name: str | None
    verify: bool | str | None
    botocore_config: dict[str, Any] | None

    def aws_hook_kwargs(self) -> dict[str, Any]:
        return aws_hook_kwargs(self.aws_conn_id, self.region_name, self.verify, self.botocore_config)

    @cached_property
    def hook(self) -> BedrockCustomizationHook:
        from airflow.sdk.module_loading import import_string

        hook: BedrockCustomizationHook = import_string(self.aws_hook_class)(**self.aws_hook_kwargs())
        return self._on_shared_connection(hook)

    @cached_property
    def s3_hook(self) -> S3Hook:
        """The Amazon provider's S3Hook on the same connection, made on first use."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        return self._on_shared_connection(S3Hook(**self.aws_hook_kwargs()))

    def _on_shared_connection(self, hook: HookT) -> HookT:
        """The connection is read once per task, not once per hook: both hooks take the same parameters,
        and each reading fetches it again and logs "credentials retrieved" again."""
        shared = self.__dict__.get("_aws_conn_config")
        if shared is None:
            self.__dict__["_aws_conn_config"] = hook.conn_config
        else:
            # conn_config is a cached_property of AwsGenericHook: setting it is what caching it does.
            hook.conn_config = shared
        return hook

    @cached_property
    def artifacts(self) -> ArtifactStore:
        """S3 (through s3_hook) and local file I/O."""
        return ArtifactStore(lambda: self.s3_hook)

    def keep_arguments(self, arguments: Mapping[str, Any], *names: str, **renamed: str) -> None:
        """Keep constructor arguments as attributes of the same names, where Airflow renders the
        templated ones: ``self.keep_arguments(locals(), "job_name", "role_arn")`` in an ``__init__``.
        ``renamed`` gives the argument of an attribute named otherwise (``evaluation_task_type="task_type"``).
        """
        for name in names:
            setattr(self, name, arguments[renamed.get(name, name)])

    def request_from_attributes(self, request_class: type[RequestT], **given: Any) -> RequestT:
        """A request dataclass filled from this task's (rendered) attributes of the same names; ``given``
        sets the fields the task keeps under another name. The connection's settings are not the
        request's: a field named like one (``region_name``) keeps its default."""
        taken = {
            field.name: getattr(self, field.name)
            for field in fields(request_class)  # type: ignore[arg-type]
            if field.init and field.name not in given and field.name not in AWS_TEMPLATE_FIELDS
        }
        return request_class(**taken, **given)

    def aws_trigger_kwargs(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in AWS_TEMPLATE_FIELDS}

    def get_template_env(self, dag: DAG | None = None) -> jinja2.Environment:
        return with_bedrock_filters(super().get_template_env(dag))  # type: ignore[misc]

    def render_template(
        self,
        content: Any,
        context: Context,
        jinja_env: jinja2.Environment | None = None,
        seen_oids: set[int] | None = None,
    ) -> Any:
        """Render with the ``bedrock_name`` and ``bedrock_job_name`` filters, so that
        ``"{{ ti | bedrock_job_name }}"`` works with no DAG setup. Every field is rendered through here,
        whoever passes the environment: the task runner passes the DAG's own, and a mapped task
        (``.partial().expand()``, ``.expand_kwargs()``, a mapped task group) renders its unmapped
        task's fields with it without calling that task's ``render_template_fields``."""
        env = with_bedrock_filters(jinja_env or self.get_template_env())
        return super().render_template(content, context, env, seen_oids)  # type: ignore[misc]


def bedrock_job_name(task_instance: Any, prefix: str | None = None, kind: str | None = None) -> str:
    """Jinja filter: ``{{ ti | bedrock_job_name }}`` (or ``{{ ti | bedrock_job_name('support-bot') }}``).

    A name unique per DAG run, task and map index, the same on every try, with no logical date
    needed, and valid for every kind of resource the provider names (customization jobs, custom
    models, evaluation jobs, deployments, provisioned throughput); ``kind='evaluation_job'`` (a key of
    bedrock_provider.core.names.NAME_RULES) says which, and is checked. See run_job_name.
    """
    missing = [key for key in ("dag_id", "task_id", "run_id") if not getattr(task_instance, key, None)]
    if missing:
        raise ValueError(
            f"bedrock_job_name takes the task instance, as in '{{{{ ti | bedrock_job_name }}}}'; got "
            f"{type(task_instance).__name__} without {', '.join(missing)}"
        )
    return run_job_name(
        str(task_instance.dag_id),
        str(task_instance.task_id),
        str(task_instance.run_id),
        getattr(task_instance, "map_index", -1),
        prefix,
        kind,
    )


def with_bedrock_filters(env: jinja2.Environment) -> jinja2.Environment:
    env.filters.setdefault("bedrock_name", sanitize_name)
    env.filters.setdefault("bedrock_job_name", bedrock_job_name)
    return env


def _connection_init(
    self: Any,
    *,
    aws_conn_id: str | None = "aws_default",
    region_name: str | None = None,
    verify: bool | str | None = None,
    botocore_config: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """The constructor of both base classes. Each class must have it as its own ``__init__``: Airflow
    applies ``default_args`` and checks ``.partial()`` arguments by the signature of the ``__init__``
    each class defines, so a constructor inherited from the mixin would ignore ``default_args``."""
    super(BedrockAwsMixin, self).__init__(**kwargs)
    self.aws_conn_id = aws_conn_id
    self.region_name = region_name
    self.verify = verify
    self.botocore_config = botocore_config


class BedrockBaseOperator(BedrockAwsMixin, BaseOperator):
    """Base of this provider's operators: ``aws_conn_id``, ``region_name``, ``verify`` and
    ``botocore_config`` as in the Amazon provider, a lazy ``hook``, ``s3_hook`` and ``artifacts``, and
    the ``bedrock_name`` filter in templates."""

    __init__ = _connection_init


class BedrockBaseSensor(BedrockAwsMixin, BaseSensorOperator):
    """Base of this provider's sensors; the same as BedrockBaseOperator's."""

    __init__ = _connection_init


# ------------------------------------------------------------------- shared by the waiting tasks


# The Airflow Variable that holds this deployment's namespace when [bedrock] deployment_namespace is
# not set: created once with a random value, it lives in the metadata DB, so it differs between two
# deployments (staging, prod) that share an AWS account and region.
NAMESPACE_VARIABLE = "bedrock_deployment_namespace"


def deployment_namespace() -> str:
    """This Airflow deployment's namespace for clientRequestTokens (see the README's "Exactly once")."""
    from airflow.sdk import Variable
    from airflow.sdk.configuration import conf

    configured = str(conf.get("bedrock", "deployment_namespace", fallback="") or "").strip()
    if configured:
        return configured
    from airflow.sdk.execution_time import task_runner

    if getattr(task_runner, "SUPERVISOR_COMMS", None) is None:
        # Not in a task (a script or a unit test calling execute()): there is no metadata DB, so no
        # deployment to tell apart.
        return ""
    stored = Variable.get(NAMESPACE_VARIABLE, default=None)
    if stored:
        return str(stored)
    Variable.set(
        NAMESPACE_VARIABLE,
        uuid.uuid4().hex,
        description="Tells this Airflow deployment's Bedrock jobs from other deployments' (set once by "
        "airflow-provider-bedrock; changing it makes running jobs look like strangers' to their retries)",
    )
    # Read back: when two first tasks raced, both go on with the value that was stored last.
    return str(Variable.get(NAMESPACE_VARIABLE))


def task_identity(context: Context) -> TaskIdentity:
    ti = context["ti"]
    map_index = getattr(ti, "map_index", -1)
    return TaskIdentity(
        dag_id=ti.dag_id,
        task_id=ti.task_id,
        run_id=ti.run_id,
        map_index=-1 if map_index is None else int(map_index),
        namespace=deployment_namespace(),
    )


def failure_text(event_or_result: dict[str, Any]) -> str:
    name = event_or_result.get("job_name") or event_or_result.get("job_arn")
    status = event_or_result.get("status")
    message = event_or_result.get("failure_message") or event_or_result.get("message")
    if status == states.STOPPED:
        return f"Bedrock job {name} was Stopped" + (f": {message}" if message else " before it completed")
    if status == states.FAILED:
        return f"Bedrock job {name} Failed: {message or 'Bedrock gave no failure message'}"
    return f"Waiting for Bedrock job {name} ended with {status}: {message}"


def customization_trigger(
    task: Any,
    job_identifier: str,
    poll_interval: float,
    max_wait: float | None,
    started_at: float | None = None,
) -> BaseTrigger:
    """The trigger that waits for a customization job, with the task's push-mode, kill, failure,
    progress and connection settings (``events_queue_url``, ``safety_poll_interval``,
    ``stop_job_on_kill``, ``max_failure_duration``, ``progress_interval``)."""
    from bedrock_provider.triggers.customization import BedrockModelCustomizationTrigger

    return BedrockModelCustomizationTrigger(
        job_identifier=job_identifier,
        poll_interval=poll_interval,
        max_wait=max_wait,
        stop_job_on_kill=task.stop_job_on_kill,
        started_at=started_at,
        events_queue_url=task.events_queue_url or None,
        safety_poll_interval=task.safety_poll_interval,
        max_failure_duration=task.max_failure_duration,
        progress_interval=task.progress_interval,
        **task.aws_trigger_kwargs(),
    )


def trigger_event(event: dict[str, Any] | None) -> dict[str, Any]:
    """The trigger's event; one that carries no status (a trigger that failed) is refused."""
    if not event or "status" not in event:
        raise AirflowException(f"The trigger returned no usable event: {event!r}")
    return event


def wait_ended_early(event: dict[str, Any]) -> bool:
    """The wait gave up (max_wait passed) or could not go on (an error), before the job ended."""
    return event["status"] in (states.TIMEOUT, states.ERROR)
