"""What every operator and sensor of this provider shares: the AWS connection and the name filter."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from bedrock_provider.core.names import run_job_name, sanitize_name
from bedrock_provider.hooks import aws_hook_kwargs
from bedrock_provider.operators.artifacts import ArtifactStore
from bedrock_provider.operators.lineage import OpenLineageMixin

if TYPE_CHECKING:
    import jinja2
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.sdk import DAG, Context

    from bedrock_provider.hooks.customization import BedrockCustomizationHook

AWS_TEMPLATE_FIELDS = ("aws_conn_id", "region_name", "verify", "botocore_config")
HookT = TypeVar("HookT", bound=Any)


class BedrockAwsMixin(OpenLineageMixin):
    """Connection parameters as the Amazon provider's operators take them, and a lazy hook.

    Every operator and sensor of the provider has it, and with it OpenLineage lineage
    (``get_openlineage_facets_on_complete``) from what it records when it finishes.

    The hook (and with it boto3) is imported on first use, not when a DAG file is parsed.
    """

    aws_conn_id: str | None
    region_name: str | None
    verify: bool | str | None
    botocore_config: dict[str, Any] | None

    def _init_aws(
        self,
        aws_conn_id: str | None,
        region_name: str | None,
        verify: bool | str | None,
        botocore_config: dict[str, Any] | None,
    ) -> None:
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config

    def aws_hook_kwargs(self) -> dict[str, Any]:
        return aws_hook_kwargs(self.aws_conn_id, self.region_name, self.verify, self.botocore_config)

    @cached_property
    def hook(self) -> BedrockCustomizationHook:
        from bedrock_provider.hooks.customization import BedrockCustomizationHook

        return self._on_shared_connection(BedrockCustomizationHook(**self.aws_hook_kwargs()))

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

    def aws_trigger_kwargs(self) -> dict[str, Any]:
        return {
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
            "verify": self.verify,
            "botocore_config": self.botocore_config,
        }

    def get_template_env(self, dag: DAG | None = None) -> jinja2.Environment:
        return with_bedrock_filters(super().get_template_env(dag))  # type: ignore[misc]

    def render_template_fields(self, context: Context, jinja_env: jinja2.Environment | None = None) -> None:
        """Render with the ``bedrock_name`` and ``bedrock_job_name`` filters, so that
        ``"{{ ti | bedrock_job_name }}"`` works with no DAG setup (the task runner passes the DAG's own
        environment)."""
        env = with_bedrock_filters(jinja_env or self.get_template_env())
        super().render_template_fields(context, env)  # type: ignore[misc]


def bedrock_job_name(task_instance: Any, prefix: str | None = None) -> str:
    """Jinja filter: ``{{ ti | bedrock_job_name }}`` (or ``{{ ti | bedrock_job_name('support-bot') }}``).

    A valid job and model name, unique per DAG run, task and map index, the same on every try, with
    no logical date needed; see bedrock_provider.core.names.run_job_name.
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
    )


def with_bedrock_filters(env: jinja2.Environment) -> jinja2.Environment:
    env.filters.setdefault("bedrock_name", sanitize_name)
    env.filters.setdefault("bedrock_job_name", bedrock_job_name)
    return env
