"""Malformed training files, each with the error it must produce and the line it must name.

A case is a whole file (bytes), the parameters it is validated with, the 1-based line the error is
on, a substring of the message and, for record problems, the field path. Valid records surround
most of the broken ones so that the line numbers are tested, not just the messages.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from typing import Any

TITAN = {"base_model_id": "amazon.titan-text-express-v1"}
LLAMA_3_1 = {"base_model_id": "meta.llama3-1-8b-instruct-v1:0:128k"}
NOVA = {"base_model_id": "amazon.nova-lite-v1:0"}
CLAUDE = {"base_model_id": "anthropic.claude-3-haiku-20240307-v1:0"}
CPT = {"base_model_id": "amazon.titan-text-express-v1", "customization_type": "CONTINUED_PRE_TRAINING"}
DISTILL_CLAUDE = {
    "base_model_id": "anthropic.claude-3-haiku-20240307-v1:0",
    "customization_type": "DISTILLATION",
}
DISTILL_NOVA = {"base_model_id": "amazon.nova-micro-v1:0", "customization_type": "DISTILLATION"}
IMAGE = {"base_model_id": "amazon.titan-image-generator-v1"}

PC = {"prompt": "What is AWS?", "completion": "Amazon Web Services."}
CLAUDE_OK = {
    "system": "Be brief.",
    "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}],
}
IMAGE_OK = {"image-ref": "s3://bucket/cat.png", "caption": "an orange cat"}


def text(value: str) -> list[dict[str, str]]:
    return [{"text": value}]


def conversation(*turns: Any, system: Any = "You are helpful.", **extra: Any) -> dict[str, Any]:
    """A conversation record; a turn is (role, content) where a str content becomes one text block."""
    record: dict[str, Any] = {"schemaVersion": "bedrock-conversation-2024"}
    if system is not None:
        record["system"] = text(system) if isinstance(system, str) else system
    record["messages"] = [
        {"role": role, "content": text(content) if isinstance(content, str) else content}
        for role, content in turns
    ]
    record.update(extra)
    return record


NOVA_OK = conversation(("user", "What is the capital of Mars?"), ("assistant", "Mars has no capital."))


def image(fmt: str = "png", uri: str = "s3://bucket/img.png") -> dict[str, Any]:
    return {"image": {"format": fmt, "source": {"s3Location": {"uri": uri}}}}


def video(fmt: str = "mp4", uri: str = "s3://bucket/clip.mp4") -> dict[str, Any]:
    return {"video": {"format": fmt, "source": {"s3Location": {"uri": uri}}}}


def lines(*items: Any) -> bytes:
    """A JSONL file: dicts are dumped, bytes are taken as the raw line; each line ends in LF."""
    out = []
    for item in items:
        out.append(item if isinstance(item, bytes) else json.dumps(item, ensure_ascii=False).encode())
    return b"\n".join(out) + b"\n"


@dataclass(frozen=True)
class Case:
    id: str
    data: bytes
    line: int
    message: str
    path: str | None = None
    params: dict[str, Any] = field(default_factory=lambda: dict(TITAN))
    file_level: bool = False


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


_GOOD = lines(PC, PC, PC)

CASES: list[Case] = [
    # -- JSON Lines syntax and the file as a whole ------------------------------------------------
    Case(
        "trailing-comma-object",
        lines(PC, b'{"prompt": "a", "completion": "b",}', PC),
        2,
        "trailing comma at column 34",
    ),
    Case(
        "trailing-comma-array",
        lines(NOVA_OK, b'{"messages": [{"role": "user", "content": [{"text": "a"},]}]}'),
        2,
        "trailing comma",
        params=NOVA,
    ),
    Case(
        "comma-between-records", lines(PC, b'{"prompt": "a", "completion": "b"},', PC), 2, "ends with a comma"
    ),
    Case(
        "json-array-one-line",
        b'[{"prompt": "a", "completion": "b"}, {"prompt": "c", "completion": "d"}]\n',
        1,
        "the file is a JSON array; Bedrock needs JSON Lines",
        file_level=True,
    ),
    Case(
        "json-array-pretty",
        b'[\n  {"prompt": "a", "completion": "b"},\n  {"prompt": "c", "completion": "d"}\n]\n',
        1,
        "the file is a JSON array",
        file_level=True,
    ),
    Case(
        "json-array-after-bom-and-blank-lines",
        b'\xef\xbb\xbf\n\n[{"prompt": "a", "completion": "b"}]',
        3,
        "the file is a JSON array",
        file_level=True,
    ),
    Case(
        "pretty-printed-file",
        b'{\n  "prompt": "a",\n  "completion": "b"\n}\n',
        1,
        "the file is pretty-printed JSON",
        file_level=True,
    ),
    Case("stray-open-brace-line", lines(PC, b"{", PC), 2, "spread over several lines"),
    Case(
        "invalid-utf8-in-string",
        lines(PC, b'{"prompt": "caf\xe9", "completion": "b"}'),
        2,
        "invalid UTF-8 at byte offset 15 of the line (byte 0xe9)",
    ),
    Case(
        "invalid-utf8-lead-byte",
        lines(PC, PC, b'\xff{"prompt": "a", "completion": "b"}'),
        3,
        "invalid UTF-8 at byte offset 0",
    ),
    Case(
        "truncated-last-line",
        lines(PC, PC)[:-1] + b'\n{"prompt": "What is A',
        3,
        "the last line has no newline and is not complete JSON",
    ),
    Case(
        "truncated-gzip",
        _gzip(_GOOD * 200)[:-40],
        1,
        "the gzip data ends early",
        file_level=True,
    ),
    Case(
        "corrupt-gzip",
        _gzip(_GOOD)[:20] + b"\x00garbage-bytes-here" + _gzip(_GOOD)[40:],
        1,
        "the gzip data is corrupt",
        file_level=True,
    ),
    Case(
        "utf16-file",
        "\ufeff".encode("utf-16-le") + lines(PC).decode().encode("utf-16-le"),
        1,
        "UTF-16",
        file_level=True,
    ),
    Case("empty-file", b"", 0, "the dataset has no records (<bytes> is empty)", file_level=True),
    Case("blank-lines-only", b"\n  \n\r\n\t\n", 0, "the dataset has no records", file_level=True),
    Case("python-dict", lines(PC, b"{'prompt': 'a', 'completion': 'b'}"), 2, "single quotes at column 2"),
    Case(
        "nan",
        lines(PC, PC, b'{"prompt": "a", "completion": "b", "score": NaN}'),
        3,
        "NaN at column 45 is not a JSON value",
    ),
    Case(
        "python-none",
        lines(b'{"prompt": None, "completion": "b"}'),
        1,
        "None at column 12 is not a JSON value",
    ),
    Case(
        "two-records-one-line",
        lines(PC, b'{"prompt": "a", "completion": "b"} {"prompt": "c", "completion": "d"}'),
        2,
        "two records on one line",
    ),
    Case(
        "raw-tab-in-string", lines(PC, b'{"prompt": "a\tb", "completion": "c"}'), 2, "raw control character"
    ),
    Case(
        "classic-mac-line-ends",
        b'{"prompt": "a", "completion": "b"}\r{"prompt": "c", "completion": "d"}\r',
        1,
        "CR (classic Mac) line ends",
    ),
    Case(
        "unquoted-key", lines(PC, b'{prompt: "a", "completion": "b"}'), 2, "expected a string key at column 2"
    ),
    Case(
        "unclosed-object-mid-file",
        lines(PC, b'{"prompt": "a", "completion": "b"', PC),
        2,
        "unexpected end of data",
    ),
    Case("string-instead-of-object", lines(PC, b'"just a string"'), 2, "expected a JSON object like"),
    Case("number-instead-of-object", lines(PC, PC, b"42"), 3, "got int 42"),
    Case("array-record-mid-file", lines(PC, b"[1, 2]"), 2, "got a list"),
    # -- prompt / completion ------------------------------------------------------------------------
    Case("missing-completion", lines(PC, {"prompt": "a"}), 2, "required field is missing", path="completion"),
    Case(
        "completion-number",
        lines({"prompt": "a", "completion": 3}),
        1,
        "expected a string, got a number",
        path="completion",
    ),
    Case(
        "empty-completion",
        lines(PC, PC, {"prompt": "a", "completion": ""}),
        3,
        "must not be empty",
        path="completion",
    ),
    Case("blank-prompt", lines({"prompt": "   ", "completion": "b"}), 1, "must not be empty", path="prompt"),
    Case("extra-field", lines(PC, {**PC, "label": 1}), 2, "unexpected field", path="label"),
    Case(
        "titan-record-over-quota",
        lines(PC, {"prompt": "x" * 20_000, "completion": "y" * 5_000}),
        2,
        "25,000 characters of text, over Bedrock's quota of 24,576",
    ),
    Case(
        "llama-completion-over-output-quota",
        lines(PC, {"prompt": "a", "completion": "y" * 96_001}),
        2,
        "16,000 output tokens",
        path="completion",
        params=LLAMA_3_1,
    ),
    # -- bedrock-conversation-2024 (Nova) -----------------------------------------------------------
    Case(
        "assistant-first",
        lines(NOVA_OK, conversation(("assistant", "Hi"), ("user", "Hello"))),
        2,
        "expected 'user': messages alternate",
        path="messages[0].role",
        params=NOVA,
    ),
    Case(
        "two-user-turns",
        lines(NOVA_OK, NOVA_OK, conversation(("user", "a"), ("user", "b"))),
        3,
        "expected 'assistant'",
        path="messages[1].role",
        params=NOVA,
    ),
    Case(
        "ends-with-user",
        lines(conversation(("user", "a"), ("assistant", "b"), ("user", "c"))),
        1,
        "ends with a user message",
        path="messages[2]",
        params=NOVA,
    ),
    Case("single-message", lines(NOVA_OK, conversation(("user", "a"))), 2, "has 1 message", params=NOVA),
    Case(
        "string-content",
        lines(
            NOVA_OK, {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
        ),
        2,
        "got a string (plain-string content is the Claude 3 Haiku format)",
        path="messages[0].content",
        params=NOVA,
    ),
    Case(
        "empty-content",
        lines(conversation(("user", []), ("assistant", "b"))),
        1,
        "at least one content block",
        path="messages[0].content",
        params=NOVA,
    ),
    Case(
        "empty-text",
        lines(NOVA_OK, conversation(("user", "a"), ("assistant", ""))),
        2,
        "must not be empty",
        path="messages[1].content[0].text",
        params=NOVA,
    ),
    Case(
        "system-as-string",
        lines(NOVA_OK, {**NOVA_OK, "system": "You are helpful."}),
        2,
        "(a plain string is the Claude 3 Haiku format)",
        path="system",
        params=NOVA,
    ),
    Case(
        "system-role-in-messages",
        lines(conversation(("system", "Be nice"), ("user", "a"))),
        1,
        "a system prompt goes in the top-level 'system' field",
        path="messages[0].role",
        params=NOVA,
    ),
    Case(
        "reserved-keyword-user",
        lines(NOVA_OK, conversation(("user", "User: what now?"), ("assistant", "b"))),
        2,
        "reserved keyword 'User:'",
        path="messages[0].content[0].text",
        params=NOVA,
    ),
    Case(
        "reserved-keyword-system",
        lines(conversation(("user", "a"), ("assistant", "b"), system="Answer then say [EOS]")),
        1,
        "reserved keyword '[EOS]'",
        path="system[0].text",
        params=NOVA,
    ),
    Case(
        "unknown-block",
        lines(conversation(("user", [{"document": {"format": "pdf"}}]), ("assistant", "b"))),
        1,
        "unsupported content block",
        path="messages[0].content[0].document",
        params=NOVA,
    ),
    Case(
        "image-bad-format",
        lines(
            NOVA_OK, conversation(("user", [{"text": "what is it?"}, image("bmp")]), ("assistant", "a cat"))
        ),
        2,
        "expected one of gif, jpeg, png, webp, got 'bmp'",
        path="messages[0].content[1].image.format",
        params=NOVA,
    ),
    Case(
        "image-in-assistant",
        lines(conversation(("user", "draw a cat"), ("assistant", [image()]))),
        1,
        "assistant responses are text only",
        path="messages[1].content[0].image",
        params=NOVA,
    ),
    Case(
        "eleven-images",
        lines(conversation(("user", [image() for _ in range(11)]), ("assistant", "many"))),
        1,
        "has 11 images; Nova takes at most 10",
        params=NOVA,
    ),
    Case(
        "two-videos",
        lines(conversation(("user", [video(), video()]), ("assistant", "two"))),
        1,
        "has 2 videos; Nova takes at most 1",
        params=NOVA,
    ),
    Case(
        "image-and-video",
        lines(conversation(("user", [image(), video()]), ("assistant", "both"))),
        1,
        "mixes images and videos",
        params=NOVA,
    ),
    Case(
        "image-uri-not-s3",
        lines(conversation(("user", [image(uri="https://example.com/a.png")]), ("assistant", "b"))),
        1,
        "expected an S3 URI like s3://bucket/key",
        path="messages[0].content[0].image.source.s3Location.uri",
        params=NOVA,
    ),
    Case(
        "missing-messages",
        lines(NOVA_OK, {"schemaVersion": "bedrock-conversation-2024"}),
        2,
        "required field is missing",
        path="messages",
        params=NOVA,
    ),
    Case(
        "messages-not-list",
        lines({"messages": {"role": "user"}}),
        1,
        "expected a list",
        path="messages",
        params=NOVA,
    ),
    Case("unexpected-top-field", lines({**NOVA_OK, "id": 7}), 1, "unexpected field", path="id", params=NOVA),
    Case(
        "unexpected-message-field",
        lines({"messages": [{"role": "user", "content": text("a"), "name": "x"}, NOVA_OK["messages"][1]]}),
        1,
        "unexpected field",
        path="messages[0].name",
        params=NOVA,
    ),
    Case(
        "schema-version-number",
        lines({**NOVA_OK, "schemaVersion": 2024}),
        1,
        "expected a string, got a number",
        path="schemaVersion",
        params=NOVA,
    ),
    # -- Claude 3 Haiku -----------------------------------------------------------------------------
    Case(
        "claude-block-content",
        lines(
            CLAUDE_OK,
            {"messages": [{"role": "user", "content": text("a")}, {"role": "assistant", "content": "b"}]},
        ),
        2,
        "Claude 3 Haiku fine-tuning takes plain-text content",
        path="messages[0].content",
        params=CLAUDE,
    ),
    Case(
        "claude-system-list",
        lines({**CLAUDE_OK, "system": text("Be brief.")}),
        1,
        "takes a plain string",
        path="system",
        params=CLAUDE,
    ),
    Case(
        "claude-extra-field",
        lines(CLAUDE_OK, {**CLAUDE_OK, "metadata": {}}),
        2,
        "unexpected field",
        path="metadata",
        params=CLAUDE,
    ),
    Case(
        "claude-wrong-order",
        lines({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}),
        1,
        "expected 'assistant'",
        path="messages[1].role",
        params=CLAUDE,
    ),
    # -- continued pre-training ---------------------------------------------------------------------
    Case(
        "cpt-missing-input",
        lines({"input": "ok"}, {"text": "wrong key"}),
        2,
        "required field is missing",
        path="input",
        params=CPT,
    ),
    Case(
        "cpt-extra-field",
        lines({"input": "ok", "output": "no"}),
        1,
        "unexpected field",
        path="output",
        params=CPT,
    ),
    # -- distillation prompts -----------------------------------------------------------------------
    Case(
        "distillation-schema-typo",
        lines({**conversation(("user", "why?"), system=None), "schemaVersion": "bedrock-conversion-2024"}),
        1,
        "expected 'bedrock-conversation-2024', got 'bedrock-conversion-2024'",
        path="schemaVersion",
        params=DISTILL_CLAUDE,
    ),
    Case(
        "distillation-multi-turn-claude",
        lines(conversation(("user", "a"), ("assistant", "b"), ("user", "c"))),
        1,
        "single-turn prompts",
        params=DISTILL_CLAUDE,
    ),
    Case(
        "distillation-image",
        lines(conversation(("user", [image()]))),
        1,
        "distillation prompts are text only",
        params=DISTILL_NOVA,
    ),
    # -- image / caption ----------------------------------------------------------------------------
    Case(
        "caption-too-short",
        lines(IMAGE_OK, {**IMAGE_OK, "caption": "ab"}),
        2,
        "captions must have 3 to 1,024",
        path="caption",
        params=IMAGE,
    ),
    Case(
        "image-ref-not-s3",
        lines({**IMAGE_OK, "image-ref": "/home/me/cat.png"}),
        1,
        "expected an S3 URI",
        path="image-ref",
        params=IMAGE,
    ),
]
