"""Custom prompt datasets of automated model evaluation, checked before the job is submitted.

The format is "Use prompt datasets for model evaluation in Amazon Bedrock"
(https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-custom.html):
JSON Lines, one prompt per line with ``prompt`` (required), ``referenceResponse`` (required for
question and answer, and for the accuracy and robustness metrics) and ``category`` (optional), at
most 1,000 prompts; "each line must be a valid JSON object" and the file has the .jsonl extension
(https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-judge.html). The
file is read with the dataset reader of customization data and each record checked with the same field
checks. Bedrock reads the file as it is, so what that reader only tolerates, because the prepare
operator rewrites it (gzip, a byte order mark), is refused here: the job would fail after it was
submitted. CRLF line ends and a missing last newline are JSON white space, and pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bedrock_provider.core.datasets.checkers import RecordProblems, _text_problem
from bedrock_provider.core.datasets.reader import (
    OVERLONG,
    BinaryReadable,
    FileLevelError,
    StreamStats,
    iter_batches,
)

MAX_PROMPTS = 1000
MAX_PROBLEMS_LISTED = 20
FORMAT_URL = (
    "https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-custom.html"
)


@dataclass
class PromptDatasetReport:
    """What the check found: the prompts counted and the first problems, each with its line."""

    prompts: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    @property
    def valid(self) -> bool:
        return self.problem_count == 0 and 0 < self.prompts <= MAX_PROMPTS

    def summary(self, source: str) -> str:
        if self.prompts == 0 and not self.problem_count:
            return f"{source} holds no prompts: one JSON object per line, each with a prompt ({FORMAT_URL})"
        lines = list(self.problems)
        if self.problem_count > len(lines):
            lines.append(f"... and {self.problem_count - len(lines)} more")
        if self.prompts > MAX_PROMPTS:
            lines.append(f"{self.prompts} prompts; an automated evaluation job takes at most {MAX_PROMPTS}")
        return f"{source} is not a valid prompt dataset ({FORMAT_URL}):\n" + "\n".join(
            f"  - {line}" for line in lines
        )

    def add_file_problem(self, message: str) -> None:
        """A problem of the whole file, listed first."""
        self.problem_count += 1
        self.problems.insert(0, message)
        del self.problems[MAX_PROBLEMS_LISTED:]

    def add(self, line: int, path: str, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_LISTED:
            self.problems.append(f"line {line}: {path}: {message}" if path else f"line {line}: {message}")


def check_prompt_dataset(stream: BinaryReadable, needs_reference: bool) -> PromptDatasetReport:
    """Read every line; never holds more than one chunk of the file."""
    report = PromptDatasetReport()
    stats = StreamStats()
    number = 0
    try:
        for batch in iter_batches(stream, stats):
            if batch.kind == OVERLONG:
                number += 1
                report.add(number, "", f"a line of {batch.length} bytes is not a prompt record")
                continue
            for raw in batch.lines:
                number += 1
                if not raw.strip():
                    report.add(number, "", "a blank line; each line must be a JSON object")
                    continue
                _check_line(raw, number, needs_reference, report)
    except FileLevelError as error:
        report.add(error.line, "", error.message)
    if stats.bom:
        # RFC 8259 section 8.1: a JSON text must not start with a byte order mark; a parser only MAY
        # ignore one. Whether Bedrock's does is not documented, so the file is refused, not guessed at.
        report.add_file_problem(
            "the file starts with a UTF-8 byte order mark: save it as UTF-8 without one (a BOM is not "
            "part of JSON Lines)"
        )
    if stats.gzip:
        report.add_file_problem(
            "the file is gzip-compressed; Bedrock reads a prompt dataset as plain JSON Lines: upload it "
            "decompressed (gunzip it, keep the .jsonl name)"
        )
    return report


def _check_line(raw: bytes, number: int, needs_reference: bool, report: PromptDatasetReport) -> None:
    try:
        record = json.loads(raw)
    except ValueError as error:
        report.add(number, "", f"not valid JSON ({error})")
        return
    if not isinstance(record, dict):
        report.add(number, "", f"expected a JSON object, got {type(record).__name__}")
        return
    report.prompts += 1
    problems: RecordProblems = []
    _text_problem(record.get("prompt"), "prompt", problems)
    if needs_reference or "referenceResponse" in record:
        _text_problem(record.get("referenceResponse"), "referenceResponse", problems)
    if "category" in record:
        _text_problem(record.get("category"), "category", problems)
    for _code, path, message in problems:
        report.add(number, path, message)
