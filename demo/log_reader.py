"""How the CeleryExecutor stack's api-server reads task and trigger logs: from the shared log folder only.

Each Celery worker and triggerer of that stack reports a host name of its own (demo/hostname.py,
``celery-worker-2.<machine>``) that no resolver knows, and none of them serves its logs (they would all
need the same port): every log is a file in the one log folder this machine shares. Airflow's
FileTaskHandler reads those files, and for a running or deferred task also asks the worker's or
triggerer's log server at ``http://<host name>:<port>/log/...``; with the demo's host names that
request cannot resolve, and the api-server logged a traceback for every log view of a running task.
The reader below skips that request for the stack's own host names only (the file it would serve was
already read); any other host is asked as Airflow asks it.

The api-server of the CeleryExecutor stack loads it through ``[logging] logging_config_class =
demo.log_reader.LOGGING_CONFIG``. Importing this module imports Airflow: demo/hostname.py, which every
process of the stack and the test harness import, does not.
"""

from __future__ import annotations

import copy
from typing import Any

from airflow.config_templates.airflow_local_settings import DEFAULT_LOGGING_CONFIG
from airflow.utils.log.file_task_handler import FileTaskHandler

from demo.hostname import component_of


class SharedFolderTaskLogReader(FileTaskHandler):
    """FileTaskHandler that does not ask the stack's own workers and triggerers for served logs."""

    def _read_from_logs_server(self, ti: Any, worker_log_rel_path: str) -> Any:
        triggerer_job = getattr(ti, "triggerer_job", None)
        hostname = triggerer_job.hostname if triggerer_job else ti.hostname
        if component_of(hostname) is not None:
            # The stack's component: it serves no logs, and its log file is in the folder read already.
            return [], []
        return super()._read_from_logs_server(ti, worker_log_rel_path)


LOGGING_CONFIG: dict[str, Any] = copy.deepcopy(DEFAULT_LOGGING_CONFIG)
LOGGING_CONFIG["handlers"]["task"]["class"] = f"{__name__}.{SharedFolderTaskLogReader.__name__}"
