"""The demo's env.sh: `source .demo/env.sh && airflow ...` works in a shell whose PATH lacks the venv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from demo.stack import LocalStack


def test_env_file_puts_the_stacks_venv_first_on_the_path(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path / "demo")
    stack.home.mkdir(parents=True)
    env_file = stack.write_env_file()
    found = subprocess.run(
        ["bash", "-c", f"source {env_file} && command -v airflow bedrock-emulator"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    venv_bin = Path(sys.executable).parent
    assert found == [str(venv_bin / "airflow"), str(venv_bin / "bedrock-emulator")]
