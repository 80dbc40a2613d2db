"""Record checkers: one per format, each with a fast path for the common shape and a full diagnosis.

The fast path decodes a line with msgspec straight into a typed Struct of the format's common shape,
so JSON syntax, field names and field types are checked in C while parsing; ``quick`` then checks
what types cannot say (empty text, the order of roles, the length limits) and returns the
characters of text, or -1. A line that fails either (a JSON error, a wrong type, an image block, a
rule broken) is parsed again with orjson into plain objects and ``check`` walks the whole record,
appending ``(code, field path, message)`` for every problem, with paths like
``messages[2].content[0].text``. Valid records with uncommon shapes (media, reasoning content)
also take that road; they are rare, and it accepts them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import msgspec

from bedrock_provider.core.datasets.formats import (
    CLAUDE_MESSAGES,
    CONTINUED_PRETRAINING,
    CONVERSATION,
    DISTILLATION_URL,
    DOCUMENTED_CHARS_PER_TOKEN,
    IMAGE_CAPTION,
    IMAGE_FORMATS,
    MAX_IMAGES_PER_RECORD,
    MAX_VIDEOS_PER_RECORD,
    NOVA_URL,
    PREPARE_URL,
    PROMPT_COMPLETION,
    RESERVED_KEYWORDS,
    SCHEMA_VERSION,
    VIDEO_FORMATS,
    ConversationRules,
    Limits,
)

# One thing wrong with a record: (rule code, field path, message). A plain tuple, not core.errors.Problem,
# as it is made for each bad field in the validator's hot loop.
RecordProblem = tuple[str, str, str]
RecordProblems = list[RecordProblem]
# Larger than any record; a limit that is not documented.
NO_LIMIT = 1 << 62
_ROLES = ("user", "assistant")
# Longer conversations take the diagnosing path, which has no length limit; zip() against this
# tuple is the cheapest way to pair each message with the role its position calls for.
_MAX_FAST_MESSAGES = 256
_EXPECTED_ROLES = _ROLES * (_MAX_FAST_MESSAGES // 2)
_TEXT_KEYS = frozenset({"text"})

# The common shape of each format, for the fast path. gc=False: these hold only strings and lists,
# never a cycle, and untracked objects spare the cyclic collector a walk over every record parsed.


class _PromptCompletion(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    prompt: str
    completion: str


class _Input(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    input: str


class _ImageCaption(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    image_ref: str = msgspec.field(name="image-ref")
    caption: str


class _ClaudeMessage(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    role: str
    content: str


class _Claude(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    messages: list[_ClaudeMessage]
    system: str | None = None


class _Text(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    text: str


class _Message(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    role: str
    content: list[_Text]


class _Conversation(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    messages: list[_Message]
    schema_version: str | None = msgspec.field(name="schemaVersion", default=None)
    system: list[_Text] | None = None


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _unexpected_keys(
    record: dict[str, Any], allowed: frozenset[str], where: str, problems: RecordProblems, hint: str = ""
) -> None:
    for key in record:
        if key not in allowed:
            path = f"{where}.{key}" if where else str(key)
            expected = ", ".join(repr(name) for name in sorted(allowed))
            problems.append(("unexpected-field", path, f"unexpected field; expected only {expected}{hint}"))


def _text_problem(value: object, path: str, problems: RecordProblems, what: str = "a string") -> int:
    """Characters of a required non-empty string field, or a problem saying what was expected."""
    if type(value) is str:
        if value and not value.isspace():
            return len(value)
        problems.append(("empty", path, f"must not be empty; expected {what} with text"))
        return len(value)
    if value is None:
        problems.append(("missing-field", path, f"required field is missing; expected {what}"))
    else:
        problems.append(("type", path, f"expected {what}, got {_type_name(value)}"))
    return 0


class RecordChecker(ABC):
    """Checks one record of a format; counts what the dataset-level limits need.

    ``decoder.decode(line)`` gives the Struct ``quick`` takes; ``check`` takes the record as plain
    objects and explains every problem.
    """

    format: str = ""
    expected_shape: str = ""
    decoder: msgspec.json.Decoder[Any]

    def __init__(self) -> None:
        self.records_with_images = 0
        self.records_with_videos = 0

    _allowed: frozenset[str] = frozenset()

    def _unexpected_fields(self, record: dict[str, Any], problems: RecordProblems) -> None:
        if not record.keys() <= self._allowed:
            _unexpected_keys(record, self._allowed, "", problems)

    @abstractmethod
    def quick(self, record: Any) -> int:
        """Characters of text in a record of the common shape, or -1 when ``check`` must look."""

    @abstractmethod
    def check(self, record: dict[str, Any], problems: RecordProblems) -> int:
        """Characters of text in the record, adding every problem it has to ``problems``."""


class PromptCompletionChecker(RecordChecker):
    """``{"prompt": "...", "completion": "..."}`` (Titan text, Cohere Command, Llama 2 and 3.1)."""

    format = PROMPT_COMPLETION
    expected_shape = '{"prompt": "<input text>", "completion": "<expected output>"}'
    decoder = msgspec.json.Decoder(_PromptCompletion)
    _allowed = frozenset({"prompt", "completion"})

    def __init__(self, limits: Limits | None) -> None:
        super().__init__()
        self.max_input_chars = _chars(limits, "max_input_tokens")
        self.max_output_chars = _chars(limits, "max_output_tokens")
        self.limits = limits

    def quick(self, record: _PromptCompletion) -> int:
        prompt, completion = record.prompt, record.completion
        if (
            not prompt
            or not completion
            or prompt.isspace()
            or completion.isspace()
            or len(prompt) > self.max_input_chars
            or len(completion) > self.max_output_chars
        ):
            return -1
        return len(prompt) + len(completion)

    def check(self, record: dict[str, Any], problems: RecordProblems) -> int:
        self._unexpected_fields(record, problems)
        prompt_chars = _text_problem(record.get("prompt"), "prompt", problems)
        completion_chars = _text_problem(record.get("completion"), "completion", problems)
        if prompt_chars > self.max_input_chars:
            problems.append(_too_long("prompt", prompt_chars, self.limits, "max_input_tokens", "input"))
        if completion_chars > self.max_output_chars:
            problems.append(
                _too_long("completion", completion_chars, self.limits, "max_output_tokens", "output")
            )
        return prompt_chars + completion_chars


class ContinuedPretrainingChecker(RecordChecker):
    """``{"input": "..."}``: unlabeled text for continued pre-training (CPT_URL)."""

    format = CONTINUED_PRETRAINING
    expected_shape = '{"input": "<text>"}'
    decoder = msgspec.json.Decoder(_Input)
    _allowed = frozenset({"input"})

    def quick(self, record: _Input) -> int:
        text = record.input
        return -1 if not text or text.isspace() else len(text)

    def check(self, record: dict[str, Any], problems: RecordProblems) -> int:
        self._unexpected_fields(record, problems)
        return _text_problem(record.get("input"), "input", problems)


class ImageCaptionChecker(RecordChecker):
    """``{"image-ref": "s3://...", "caption": "..."}`` (Titan Image Generator, Titan Multimodal
    Embeddings, Nova Canvas)."""

    format = IMAGE_CAPTION
    expected_shape = '{"image-ref": "s3://bucket/image.png", "caption": "<prompt text>"}'
    decoder = msgspec.json.Decoder(_ImageCaption)
    _allowed = frozenset({"image-ref", "caption"})

    def __init__(self, limits: Limits | None) -> None:
        super().__init__()
        self.caption_chars = limits.caption_chars if limits else None
        self.doc_url = limits.doc_url if limits else PREPARE_URL

    def quick(self, record: _ImageCaption) -> int:
        ref, caption = record.image_ref, record.caption
        low, high = self.caption_chars or (1, NO_LIMIT)
        if not ref.startswith("s3://") or ref.count("/") < 3 or not low <= len(caption) <= high:
            return -1
        return len(caption)

    def check(self, record: dict[str, Any], problems: RecordProblems) -> int:
        self._unexpected_fields(record, problems)
        ref = record.get("image-ref")
        if type(ref) is not str:
            _text_problem(ref, "image-ref", problems, "an S3 URI of a JPEG or PNG image")
        elif not ref.startswith("s3://") or ref.count("/") < 3:
            problems.append(
                ("value", "image-ref", f"expected an S3 URI like s3://bucket/image.png, got {ref!r}")
            )
        caption = record.get("caption")
        if type(caption) is not str:
            _text_problem(caption, "caption", problems)
            return 0
        if self.caption_chars is not None:
            low, high = self.caption_chars
            if not low <= len(caption) <= high:
                problems.append(
                    (
                        "too-long" if len(caption) > high else "too-short",
                        "caption",
                        f"has {len(caption):,} characters; captions must have {low:,} to {high:,} "
                        f"(see {self.doc_url})",
                    )
                )
        return len(caption)


class ClaudeMessagesChecker(RecordChecker):
    """``{"system": "...", "messages": [{"role": "user", "content": "..."}, ...]}``: the Claude 3
    Haiku fine-tuning format, with plain-string content (PREPARE_URL, "Anthropic Claude 3 Haiku").

    At least two messages, user first, assistant last, alternating; no other fields.
    """

    format = CLAUDE_MESSAGES
    expected_shape = (
        '{"system": "<optional>", "messages": [{"role": "user", "content": "<text>"}, '
        '{"role": "assistant", "content": "<text>"}]}'
    )
    decoder = msgspec.json.Decoder(_Claude)
    _allowed = frozenset({"system", "messages"})
    _message_keys = frozenset({"role", "content"})

    def quick(self, record: _Claude) -> int:
        messages = record.messages
        if len(messages) & 1 or not 2 <= len(messages) <= _MAX_FAST_MESSAGES:
            return -1
        chars = len(record.system) if record.system else 0
        for message, expected in zip(messages, _EXPECTED_ROLES, strict=False):
            content = message.content
            if message.role != expected or not content or content.isspace():
                return -1
            chars += len(content)
        return chars

    def check(self, record: dict[str, Any], problems: RecordProblems) -> int:
        chars = 0
        self._unexpected_fields(record, problems)
        system = record.get("system")
        if system is not None:
            if type(system) is str:
                chars += len(system)
            else:
                hint = " (the Claude 3 Haiku format takes a plain string, not a list of blocks)"
                problems.append(("type", "system", f"expected a string, got {_type_name(system)}{hint}"))
        messages = record.get("messages")
        if type(messages) is not list:
            _messages_problem(messages, problems, 'a list of {"role", "content"} messages')
            return chars
        for index, message in enumerate(messages):
            chars += self._diagnose(message, index, problems)
        _check_turn_count(messages, problems, minimum=2)
        return chars

    def _diagnose(self, message: object, index: int, problems: RecordProblems) -> int:
        where = f"messages[{index}]"
        if type(message) is not dict:
            problems.append(
                ("type", where, f"expected an object with 'role' and 'content', got {_type_name(message)}")
            )
            return 0
        if not message.keys() <= self._message_keys:
            _unexpected_keys(message, self._message_keys, where, problems)
        _role_problem(message.get("role"), index, where, problems)
        content = message.get("content")
        if type(content) is list:
            problems.append(
                (
                    "type",
                    f"{where}.content",
                    "expected a string; Claude 3 Haiku fine-tuning takes plain-text content, not a list "
                    "of content blocks (that is the bedrock-conversation-2024 format)",
                )
            )
            return 0
        return _text_problem(content, f"{where}.content", problems)


class ConversationChecker(RecordChecker):
    """The Converse-shaped ``bedrock-conversation-2024`` records of Amazon Nova, Meta Llama 3.2/3.3
    and distillation prompts:

    ``{"schemaVersion": "bedrock-conversation-2024", "system": [{"text": ...}],
    "messages": [{"role": "user", "content": [{"text": ...}, {"image": ...}]}, ...]}``
    """

    format = CONVERSATION
    expected_shape = (
        '{"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "<optional>"}], '
        '"messages": [{"role": "user", "content": [{"text": "<text>"}]}, '
        '{"role": "assistant", "content": [{"text": "<text>"}]}]}'
    )
    decoder = msgspec.json.Decoder(_Conversation)
    _allowed = frozenset({"schemaVersion", "system", "messages"})
    _message_keys = frozenset({"role", "content"})

    def __init__(self, rules: ConversationRules, dataset_bucket: str | None = None, fmt: str = CONVERSATION):
        super().__init__()
        self.rules = rules
        self.format = fmt
        self.dataset_bucket = dataset_bucket if rules.media_same_bucket else None
        self.reserved = rules.reserved_keywords
        # Distillation prompts need no assistant turn (an odd count is fine); fine-tuning needs one.
        self.min_pairs = not rules.prompts_only
        self.max_messages = 2 if rules.single_turn else _MAX_FAST_MESSAGES
        self.exact_schema = rules.schema_version_exact

    def quick(self, record: _Conversation) -> int:
        if self.exact_schema and record.schema_version != SCHEMA_VERSION:
            return -1
        reserved = self.reserved
        chars = _prompt_chars(record.system, reserved) if record.system is not None else 0
        messages = record.messages
        count = len(messages)
        if chars < 0 or not count or count > self.max_messages or (count & 1 and self.min_pairs):
            return -1
        # User/assistant pairs: the roles are constants and only prompts are searched for reserved
        # keywords (Bedrock reserves them in prompts alone). A distillation prompt may end with a
        # user turn that has no response.
        pairs = iter(messages)
        for user, assistant in zip(pairs, pairs, strict=False):
            prompt, response = user.content, assistant.content
            if user.role != "user" or assistant.role != "assistant" or not prompt or not response:
                return -1
            # _prompt_chars inlined: a call per turn costs more than the rest of this loop.
            for block in prompt:
                text = block.text
                if (
                    not text
                    or text.isspace()
                    or (reserved and (":" in text or "<" in text or "[" in text) and _has_reserved(text))
                ):
                    return -1
                chars += len(text)
            for block in response:
                text = block.text
                if not text or text.isspace():
                    return -1
                chars += len(text)
        if count & 1:
            last = messages[-1]
            last_chars = _prompt_chars(last.content, reserved) if last.role == "user" else -1
            if last_chars < 0:
                return -1
            chars += last_chars
        return chars

    def check(self, record: dict[str, Any], problems: RecordProblems) -> int:
        chars = 0
        self._unexpected_fields(record, problems)
        schema = record.get("schemaVersion")
        if schema is None:
            if self.rules.schema_version_exact:
                problems.append(
                    (
                        "missing-field",
                        "schemaVersion",
                        f"required field is missing; expected {SCHEMA_VERSION!r}",
                    )
                )
        elif type(schema) is not str:
            problems.append(("type", "schemaVersion", f"expected a string, got {_type_name(schema)}"))
        elif self.rules.schema_version_exact and schema != SCHEMA_VERSION:
            # The distillation page's prose says "bedrock-conversion-2024", its examples say
            # "bedrock-conversation-2024"; the examples are what the service takes.
            problems.append(("value", "schemaVersion", f"expected {SCHEMA_VERSION!r}, got {schema!r}"))
        system = record.get("system")
        if system is not None:
            chars += self._system(system, problems)
        messages = record.get("messages")
        if type(messages) is not list:
            _messages_problem(messages, problems, 'a list of {"role", "content": [blocks]} messages')
            return chars
        images = videos = 0
        for index, message in enumerate(messages):
            added, message_images, message_videos = self._diagnose(message, index, problems)
            chars += added
            images += message_images
            videos += message_videos
        self._turns(messages, problems)
        if images or videos:
            self._media_counts(images, videos, problems)
        return chars

    def _system(self, system: object, problems: RecordProblems) -> int:
        if type(system) is not list:
            hint = " (a plain string is the Claude 3 Haiku format)" if type(system) is str else ""
            problems.append(
                (
                    "type",
                    "system",
                    f'expected a list of {{"text": ...}} blocks, got {_type_name(system)}{hint}',
                )
            )
            return 0
        chars = 0
        for index, block in enumerate(system):
            path = f"system[{index}]"
            if type(block) is not dict or "text" not in block:
                problems.append(("type", path, f'expected a {{"text": ...}} block, got {_type_name(block)}'))
                continue
            if len(block) != 1:
                _unexpected_keys(block, _TEXT_KEYS, path, problems)
            text = block["text"]
            chars += _text_problem(text, f"{path}.text", problems)
            if self.reserved and type(text) is str and _has_reserved(text):
                _reserved_problem(text, f"{path}.text", problems)
        return chars

    def _diagnose(self, message: object, index: int, problems: RecordProblems) -> tuple[int, int, int]:
        """Characters, images and videos of one message, and its problems."""
        where = f"messages[{index}]"
        if type(message) is not dict:
            problems.append(
                ("type", where, f"expected an object with 'role' and 'content', got {_type_name(message)}")
            )
            return 0, 0, 0
        if not message.keys() <= self._message_keys:
            _unexpected_keys(message, self._message_keys, where, problems)
        role = message.get("role")
        _role_problem(role, index, where, problems)
        content = message.get("content")
        path = f"{where}.content"
        if type(content) is str:
            problems.append(
                (
                    "type",
                    path,
                    'expected a list of content blocks like [{"text": "..."}], got a string (plain-string '
                    "content is the Claude 3 Haiku format)",
                )
            )
            return 0, 0, 0
        if type(content) is not list:
            _text_problem(content, path, problems, 'a list of content blocks like [{"text": "..."}]')
            return 0, 0, 0
        if not content:
            problems.append(("empty", path, 'must have at least one content block like {"text": "..."}'))
            return 0, 0, 0
        chars = images = videos = 0
        for position, block in enumerate(content):
            block_path = f"{path}[{position}]"
            added, kind = self._block(block, role, block_path, problems)
            chars += added
            images += kind == "image"
            videos += kind == "video"
            if self.reserved and role == "user" and type(block) is dict:
                text = block.get("text")
                if type(text) is str and _has_reserved(text):
                    _reserved_problem(text, f"{block_path}.text", problems)
        return chars, images, videos

    def _block(self, block: object, role: object, path: str, problems: RecordProblems) -> tuple[int, str]:
        """A content block that is not a plain non-empty text block: diagnose it or accept media."""
        if type(block) is not dict or not block:
            problems.append(
                ("type", path, f'expected a content block like {{"text": "..."}}, got {_type_name(block)}')
            )
            return 0, ""
        if len(block) != 1:
            keys = ", ".join(repr(key) for key in block)
            problems.append(
                ("type", path, f"a content block has exactly one of 'text', 'image', 'video'; got {keys}")
            )
            return 0, ""
        kind, value = next(iter(block.items()))
        if kind == "text":
            return _text_problem(value, f"{path}.text", problems), ""
        if kind in ("image", "video"):
            return 0, self._media(kind, value, role, f"{path}.{kind}", problems)
        if kind == "reasoningContent" and self.rules.reasoning:
            return self._reasoning(value, role, f"{path}.reasoningContent", problems), ""
        allowed = ["'text'"]
        if not self.rules.prompts_only:
            allowed += ["'image'"] if self.rules.images else []
            allowed += ["'video'"] if self.rules.videos else []
            allowed += ["'reasoningContent'"] if self.rules.reasoning else []
        problems.append(
            (
                "unexpected-field",
                f"{path}.{kind}",
                f"unsupported content block; expected {' or '.join(allowed)}",
            )
        )
        return 0, ""

    def _media(self, kind: str, value: object, role: object, path: str, problems: RecordProblems) -> str:
        allowed = self.rules.images if kind == "image" else self.rules.videos
        if self.rules.prompts_only or not allowed:
            what = (
                "distillation prompts are text only"
                if self.rules.prompts_only
                else f"this model takes no {kind}s"
            )
            problems.append(("media", path, f"{kind} blocks are not supported here: {what}"))
            return ""
        if role != "user":
            problems.append(
                ("media", path, f"{kind} blocks belong in user messages; assistant responses are text only")
            )
            return ""
        formats = IMAGE_FORMATS if kind == "image" else VIDEO_FORMATS
        example = '{"format": "png", "source": {"s3Location": {"uri": "s3://bucket/key.png"}}}'
        if type(value) is not dict:
            problems.append(("type", path, f"expected an object like {example}, got {_type_name(value)}"))
            return ""
        media_format = value.get("format")
        if media_format not in formats:
            problems.append(
                (
                    "value",
                    f"{path}.format",
                    f"expected one of {', '.join(sorted(formats))}, got {media_format!r}",
                )
            )
        source = value.get("source")
        location = source.get("s3Location") if type(source) is dict else None
        uri = location.get("uri") if type(location) is dict else None
        if type(uri) is not str:
            problems.append(
                (
                    "missing-field",
                    f"{path}.source.s3Location.uri",
                    f"expected the S3 URI of the {kind}, as in {example}",
                )
            )
            return kind
        if not uri.startswith("s3://") or uri.count("/") < 3:
            problems.append(
                (
                    "value",
                    f"{path}.source.s3Location.uri",
                    f"expected an S3 URI like s3://bucket/key, got {uri!r}",
                )
            )
            return kind
        owner = location.get("bucketOwner") if type(location) is dict else None
        if owner is not None and (type(owner) is not str or not owner.isdigit() or len(owner) != 12):
            problems.append(
                (
                    "value",
                    f"{path}.source.s3Location.bucketOwner",
                    f"expected a 12-digit AWS account id, got {owner!r}",
                )
            )
        if self.dataset_bucket is not None:
            bucket = uri[5:].split("/", 1)[0]
            if bucket != self.dataset_bucket:
                problems.append(
                    (
                        "media",
                        f"{path}.source.s3Location.uri",
                        f"is in bucket {bucket!r}; Nova needs images and videos in the dataset's bucket "
                        f"{self.dataset_bucket!r} (see {NOVA_URL})",
                    )
                )
        return kind

    def _reasoning(self, value: object, role: object, path: str, problems: RecordProblems) -> int:
        if role != "assistant":
            problems.append(("media", path, "reasoning content belongs in assistant messages"))
            return 0
        inner = value.get("reasoningText") if type(value) is dict else None
        text = inner.get("text") if type(inner) is dict else None
        return _text_problem(text, f"{path}.reasoningText.text", problems)

    def _turns(self, messages: list[Any], problems: RecordProblems) -> None:
        if self.rules.prompts_only:
            if not messages:
                problems.append(("empty", "messages", "must hold the user prompt"))
            elif self.rules.single_turn and len(messages) > 2:
                problems.append(
                    (
                        "role-order",
                        "messages",
                        f"has {len(messages)} messages; Anthropic and Meta Llama students take single-turn "
                        "prompts: one user message, optionally followed by one assistant response "
                        f"(see {DISTILLATION_URL})",
                    )
                )
            return
        _check_turn_count(messages, problems, minimum=2)

    def _media_counts(self, images: int, videos: int, problems: RecordProblems) -> None:
        if images:
            self.records_with_images += 1
        if videos:
            self.records_with_videos += 1
        if images and videos:
            problems.append(
                ("media", "messages", "mixes images and videos; a Nova dataset holds one or the other")
            )
        if images > MAX_IMAGES_PER_RECORD:
            problems.append(
                (
                    "media",
                    "messages",
                    f"has {images} images; Nova takes at most {MAX_IMAGES_PER_RECORD} per record",
                )
            )
        if videos > MAX_VIDEOS_PER_RECORD:
            problems.append(
                (
                    "media",
                    "messages",
                    f"has {videos} videos; Nova takes at most {MAX_VIDEOS_PER_RECORD} per record",
                )
            )


def _has_reserved(text: str) -> bool:
    return any(keyword in text for keyword in RESERVED_KEYWORDS)


def _prompt_chars(blocks: list[_Text], reserved: bool) -> int:
    """Characters of the text blocks of a prompt (system or user), or -1 if one is empty, blank or
    holds a reserved keyword. Every reserved keyword holds ':', '<' or '['; three scans for a
    character are cheaper than seven substring searches, and most texts hold none of the three."""
    if not blocks:
        return -1
    chars = 0
    for block in blocks:
        text = block.text
        if (
            not text
            or text.isspace()
            or (reserved and (":" in text or "<" in text or "[" in text) and _has_reserved(text))
        ):
            return -1
        chars += len(text)
    return chars


def _reserved_problem(text: str, path: str, problems: RecordProblems) -> None:
    found = ", ".join(repr(keyword) for keyword in RESERVED_KEYWORDS if keyword in text)
    problems.append(
        (
            "reserved-keyword",
            path,
            f"contains the reserved keyword {found}; Nova fails a job whose prompts contain "
            f"{', '.join(RESERVED_KEYWORDS)} - reword it (see {NOVA_URL})",
        )
    )


def _role_problem(role: object, index: int, where: str, problems: RecordProblems) -> None:
    expected = _ROLES[index & 1]
    if role == expected:
        return
    path = f"{where}.role"
    if role is None:
        problems.append(("missing-field", path, f"required field is missing; expected {expected!r}"))
    elif role not in _ROLES:
        hint = "; a system prompt goes in the top-level 'system' field" if role == "system" else ""
        problems.append(("value", path, f"expected 'user' or 'assistant', got {role!r}{hint}"))
    else:
        problems.append(
            (
                "role-order",
                path,
                f"expected {expected!r}: messages alternate user, assistant, user, ... starting with user; "
                f"got {role!r}",
            )
        )


def _messages_problem(messages: object, problems: RecordProblems, what: str) -> None:
    if messages is None:
        problems.append(("missing-field", "messages", f"required field is missing; expected {what}"))
    else:
        problems.append(("type", "messages", f"expected {what}, got {_type_name(messages)}"))


def _check_turn_count(messages: list[Any], problems: RecordProblems, minimum: int) -> None:
    if len(messages) < minimum:
        problems.append(
            (
                "role-order",
                "messages",
                f"has {len(messages)} message{'s' if len(messages) != 1 else ''}; a training conversation "
                "needs at least a user message followed by the assistant's response",
            )
        )
    elif len(messages) % 2:
        problems.append(
            (
                "role-order",
                f"messages[{len(messages) - 1}]",
                "the conversation ends with a user message; the last message must be the assistant's "
                "response",
            )
        )


def _chars(limits: Limits | None, name: str) -> int:
    tokens = getattr(limits, name) if limits is not None else None
    return NO_LIMIT if tokens is None else tokens * DOCUMENTED_CHARS_PER_TOKEN


def _too_long(path: str, chars: int, limits: Limits | None, name: str, what: str) -> RecordProblem:
    tokens = getattr(limits, name)
    url = limits.doc_url if limits else PREPARE_URL
    return (
        "too-long",
        path,
        f"has {chars:,} characters, over Bedrock's quota of {tokens * DOCUMENTED_CHARS_PER_TOKEN:,} "
        f"({tokens:,} {what} tokens x {DOCUMENTED_CHARS_PER_TOKEN} characters per token, Bedrock's own "
        f"estimate; see {url})",
    )
