"""The record checker of reinforcement fine-tuning prompts (the catalog's RFT_PROMPTS format).

AWS's "Prepare data for reinforcement fine-tuning" (https://docs.aws.amazon.com/bedrock/latest/userguide/
rft-prepare-data.html) and the Nova 2 RFT data page
(https://docs.aws.amazon.com/nova/latest/nova2-userguide/nova-hp-rft-nova2.html): one JSON object per
line in the OpenAI chat completions format, with

- ``messages``: the prompt, turns with role ``system``, ``user`` or (optionally) ``assistant``;
- ``reference_answer`` (optional): what the grader compares the model's response with, in any form;
- ``id`` (optional), ``tools`` (optional), and any other field the grader Lambda reads.

The record holds no response to learn from: Bedrock generates the responses and the grader scores
them. At most 20,000 prompts (the catalog's Limits.max_total_records for RFT).
"""

from __future__ import annotations

from typing import Any

import msgspec

from bedrock_provider.core.catalog import RFT_DATA_URL, RFT_PROMPTS
from bedrock_provider.core.datasets.checkers import RecordChecker, RecordProblems, _text_problem, _type_name

RFT_ROLES = ("system", "user", "assistant")


class _ChatMessage(msgspec.Struct, gc=False):
    role: str
    content: str


class _RftPrompt(msgspec.Struct, gc=False):
    # Other fields (reference_answer, id, tools, the grader's own) are the grader's business.
    messages: list[_ChatMessage]


class RftPromptChecker(RecordChecker):
    """``{"messages": [{"role": "user", "content": "..."}], "reference_answer": ...}``."""

    format = RFT_PROMPTS
    expected_shape = (
        '{"messages": [{"role": "system", "content": "..."}, {"role": "user", "content": "<prompt>"}], '
        '"reference_answer": <what the grader compares with, optional>}'
    )
    decoder = msgspec.json.Decoder(_RftPrompt)

    def quick(self, record: _RftPrompt) -> int:
        chars = 0
        has_user = False
        for message in record.messages:
            if message.role not in RFT_ROLES or not message.content or message.content.isspace():
                return -1
            has_user = has_user or message.role == "user"
            chars += len(message.content)
        return chars if has_user else -1

    def check(self, record: dict[str, Any], problems: RecordProblems) -> int:
        messages = record.get("messages")
        if not isinstance(messages, list) or not messages:
            what = "missing" if messages is None else f"{_type_name(messages)}, not a list of turns"
            problems.append(
                (
                    "missing-field" if messages is None else "type",
                    "messages",
                    f"is {what}; an RFT prompt is a non-empty list of messages (see {RFT_DATA_URL})",
                )
            )
            return 0
        chars = 0
        roles = []
        for index, message in enumerate(messages):
            where = f"messages[{index}]"
            if not isinstance(message, dict):
                problems.append(
                    ("type", where, f"expected an object with role and content, got {_type_name(message)}")
                )
                continue
            role = message.get("role")
            roles.append(role)
            if role not in RFT_ROLES:
                problems.append(
                    ("role", f"{where}.role", f"is {role!r}; expected one of {', '.join(RFT_ROLES)}")
                )
            chars += _text_problem(message.get("content"), f"{where}.content", problems)
        if "user" not in roles:
            problems.append(
                (
                    "no-prompt",
                    "messages",
                    f"has no 'user' message: the prompt the model answers (see {RFT_DATA_URL})",
                )
            )
        return chars
