"""The streaming validator: parse, check, de-duplicate and split JSON Lines records in one pass.

``DatasetValidator.feed`` takes one binary stream at a time (a local file, an S3 StreamingBody) and
writes the records it keeps straight to the training and validation outputs, so memory holds a
chunk of the input and the duplicate hashes, never a file.

Splitting is by a seeded hash of each record's bytes, not by its position: the same records land
in the same split whatever order the sources are read in, and duplicates stay together. A record
goes to validation when its hash falls below ``validation_split`` of the hash range, so the
fraction holds on average; one record is kept back on each side so that neither split ends empty
when the other has records to spare.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import orjson

from bedrock_provider.core.datasets.checker_for_format import make_checker
from bedrock_provider.core.datasets.checkers import NO_LIMIT, RecordChecker, RecordProblems
from bedrock_provider.core.datasets.dedup import HashSet64
from bedrock_provider.core.datasets.formats import (
    DOCUMENTED_CHARS_PER_TOKEN,
    FORMATS,
    PREPARE_URL,
    Limits,
    detect_format,
)
from bedrock_provider.core.datasets.plan import DatasetPlan
from bedrock_provider.core.datasets.reader import (
    OVERLONG,
    BinaryReadable,
    FileLevelError,
    StreamStats,
    iter_batches,
)
from bedrock_provider.core.datasets.report import DatasetReport, SourceSummary
from bedrock_provider.core.values import ORJSON_MAX_DEPTH

_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_NEWLINE = b"\n"
MAX_WARNINGS_LISTED = 20


def seed_mask(seed: int) -> int:
    return zlib.crc32(f"bedrock-split:{seed}".encode())


def split_key(line: bytes, seed: int) -> int:
    """A record's 64-bit split key: its CRC-32, masked by the seed, times the golden ratio mod 2**64.

    CRC-32 is stable across processes and platforms (Python's ``hash`` is salted per process) and
    cheaper here than any digest hashlib has. The multiply spreads the masked CRC over 64 bits
    (Fibonacci hashing), so a seed changes which records fall below the threshold, not just how
    many. A record is in the validation set when its key is below ``validation_split * 2**64``.
    """
    return ((zlib.crc32(line) ^ seed_mask(seed)) * _GOLDEN) & _M64


@dataclass
class _Held:
    """The record kept back on one side of the split, until the end shows where it must go."""

    key: int = -1
    line: bytes = b""
    chars: int = 0


class DatasetValidator:
    """Validates sources one after another into one training (and validation) output.

    ``feed`` each source with the output files open for writing, then ``finish`` for the report.
    """

    def __init__(self, plan: DatasetPlan, dataset_bucket: str | None = None):
        self.plan = plan
        self.format = plan.format
        self.format_source = plan.format_source
        self.dataset_bucket = dataset_bucket
        self.checker: RecordChecker | None = (
            make_checker(plan.format, plan.profile, plan.customization_type, dataset_bucket)
            if plan.format
            else None
        )
        limits = plan.limits
        self.max_record_chars = _record_char_limit(limits, DOCUMENTED_CHARS_PER_TOKEN)
        self.warn_record_chars = _record_char_limit(limits, plan.chars_per_token)
        self.seen = HashSet64()
        self.sources: list[SourceSummary] = []
        self.errors: list[dict[str, Any]] = []
        self.error_counts: Counter[str] = Counter()
        self.errors_total = 0
        self.dataset_errors: list[str] = []
        self.warnings: list[str] = []
        self.warning_counts: Counter[str] = Counter()
        self.duplicates: list[dict[str, Any]] = []
        self.characters = 0
        # Of ``characters``, those of the records in the validation split (the rest are training's).
        self.validation_characters = 0
        self.max_record_characters = 0
        self.training_records = 0
        self.validation_records = 0
        self.duplicates_removed = 0
        self.bytes_written = {"training": 0, "validation": 0}
        self._held_training = _Held()
        self._held_validation = _Held()
        self._mismatch_noted = False

    # -- errors ---------------------------------------------------------------------------------

    def _error(self, source: str, line: int, field_path: str, code: str, message: str) -> None:
        self.errors_total += 1
        self.error_counts[code] += 1
        if len(self.errors) < self.plan.max_errors_listed:
            self.errors.append(
                {"source": source, "line": line, "field": field_path, "code": code, "message": message}
            )

    def _warn(self, kind: str, message: str) -> None:
        self.warning_counts[kind] += 1
        if len(self.warnings) < MAX_WARNINGS_LISTED:
            self.warnings.append(message)

    # -- the pass over one source -----------------------------------------------------------------

    def feed(
        self,
        name: str,
        stream: BinaryReadable,
        training: IO[bytes] | None = None,
        validation: IO[bytes] | None = None,
    ) -> SourceSummary:
        """Validate one source, appending the records kept to ``training`` / ``validation``."""
        summary = SourceSummary(name, StreamStats())
        self.sources.append(summary)
        try:
            self._feed(summary, stream, training, validation)
        except FileLevelError as exc:
            summary.error = exc.message
            self._error(name, exc.line, "", exc.code, exc.message)
            self.dataset_errors.append(f"{name}: {exc.message}")
        return summary

    def _feed(
        self,
        summary: SourceSummary,
        stream: BinaryReadable,
        training: IO[bytes] | None,
        validation: IO[bytes] | None,
    ) -> None:
        name = summary.name
        plan = self.plan
        seen = self.seen
        remove_duplicates = plan.remove_duplicates
        max_chars = self.max_record_chars
        warn_chars = self.warn_record_chars
        splitting = plan.validation_split > 0
        threshold = int(plan.validation_split * (1 << 64))
        # split_key, inlined: a function call per record is a tenth of the budget left for Python.
        crc32, mask, golden, m64 = zlib.crc32, seed_mask(plan.seed), _GOLDEN, _M64
        held_training, held_validation = self._held_training, self._held_validation
        # The held keys as locals: read for every record, an attribute load each time adds up.
        held_training_key, held_validation_key = held_training.key, held_validation.key
        newline = _NEWLINE
        # DecodeError (and ValidationError, a subclass) for bad JSON or types; UnicodeDecodeError
        # for invalid UTF-8. All are ValueErrors, and all mean "look closer".
        fast_errors = ValueError
        line_number = 0
        blank = valid = invalid = duplicates = training_records = validation_records = 0
        characters = validation_characters = 0
        longest = self.max_record_characters
        # One comparison per record for two rare events: a new longest record, a token warning.
        gate = min(longest, warn_chars)
        try:
            for batch in iter_batches(stream, summary.stats):
                if batch.kind == OVERLONG:
                    line_number += 1
                    invalid += 1
                    self._overlong(name, line_number, batch.length, batch.has_carriage_returns)
                    continue
                seen.maybe_compact()
                seen_set = seen.fast_set
                checker = self.checker
                decode: Callable[[bytes], Any] = checker.decoder.decode if checker else _format_unknown
                quick: Callable[[Any], int] = checker.quick if checker else _format_unknown
                to_training: list[bytes] = []
                to_validation: list[bytes] = []
                for line in batch.lines:
                    line_number += 1
                    if line == newline:
                        blank += 1
                        continue
                    try:
                        chars = quick(decode(line))
                    except fast_errors:
                        chars = -1
                    if chars < 0 or chars > max_chars:
                        chars = self._inspect(
                            name, line_number, line, batch.unterminated, valid + invalid == 0
                        )
                        if chars < 0:
                            if chars == _BLANK:
                                blank += 1
                            else:
                                invalid += 1
                            continue
                    valid += 1
                    # Python's hash of bytes is salted per process, which is fine within one run;
                    # with 64 bits a false duplicate among a million records is a 1-in-37-million
                    # event (n**2 / 2**65).
                    digest = hash(line)
                    if seen_set is not None:
                        duplicate = digest in seen_set
                        if not duplicate:
                            seen_set.add(digest)
                    else:
                        duplicate = not seen.add(digest)
                    if duplicate:
                        duplicates += 1
                        if len(self.duplicates) < plan.max_errors_listed:
                            self.duplicates.append({"source": name, "line": line_number})
                        if remove_duplicates:
                            continue
                    characters += chars
                    if chars > gate:
                        if chars > longest:
                            longest = chars
                        if chars > warn_chars:
                            self._token_warning(name, line_number, chars)
                        gate = min(longest, warn_chars)
                    if splitting:
                        key = ((crc32(line) ^ mask) * golden) & m64
                        if key < threshold:
                            validation_records += 1
                            validation_characters += chars
                            if key > held_validation_key:
                                if held_validation_key >= 0:
                                    to_validation.append(held_validation.line)
                                held_validation_key, held_validation.line = key, line
                                held_validation.chars = chars
                            else:
                                to_validation.append(line)
                            continue
                        if held_training_key < 0 or key < held_training_key:
                            if held_training_key >= 0:
                                to_training.append(held_training.line)
                            held_training_key, held_training.line = key, line
                            held_training.chars = chars
                            training_records += 1
                            continue
                    training_records += 1
                    to_training.append(line)
                self._write(training, to_training, "training")
                self._write(validation, to_validation, "validation")
        finally:
            held_training.key, held_validation.key = held_training_key, held_validation_key
            summary.lines = line_number
            summary.blank_lines = blank
            summary.valid = valid
            summary.invalid = invalid
            summary.records = valid + invalid
            summary.duplicates = duplicates
            if remove_duplicates:
                self.duplicates_removed += duplicates
            self.training_records += training_records
            self.validation_records += validation_records
            self.characters += characters
            self.validation_characters += validation_characters
            self.max_record_characters = longest

    def _inspect(self, name: str, line_number: int, line: bytes, unterminated: bool, first: bool) -> int:
        """The slow path: parse a line the fast path gave up on and explain what is wrong with it.

        Returns the record's characters when it is valid after all (an uncommon shape such as an
        image block), _BLANK for a line of white space, _INVALID once its errors are recorded.
        """
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if line.isspace():
                return _BLANK
            if first and line.lstrip().startswith(b"["):
                raise FileLevelError("json-array", _ARRAY_MESSAGE, line_number) from None
            if first and line.strip() == b"{":
                raise FileLevelError("multi-line", _PRETTY_MESSAGE, line_number) from None
            code, message = _json_problem(line, exc, unterminated)
            self._error(name, line_number, "", code, message)
            return _INVALID
        if type(record) is not dict:
            if first and _looks_like_array_file(record):
                raise FileLevelError("json-array", _ARRAY_MESSAGE, line_number)
            self._not_an_object(name, line_number, record)
            return _INVALID
        checker = self.checker or self._detect(record)
        problems: RecordProblems = []
        chars = checker.check(record, problems)
        if problems or chars > self.max_record_chars:
            self._record_problems(name, line_number, record, chars, problems)
            return _INVALID
        return chars

    def _write(self, out: IO[bytes] | None, lines: list[bytes], side: str) -> None:
        if not lines:
            return
        if out is None:
            # Validating without writing: the sizes still count against the file-size limits.
            self.bytes_written[side] += sum(map(len, lines))
            return
        data = b"".join(lines)
        out.write(data)
        self.bytes_written[side] += len(data)

    # -- the slow paths -------------------------------------------------------------------------

    def _detect(self, record: dict[str, Any]) -> RecordChecker:
        """Pick the format from the first object record when neither the model nor format= says."""
        detected = detect_format(record)
        if detected is None:
            fields = ", ".join(sorted(record)) or "none"
            raise FileLevelError(
                "format",
                f"cannot tell the record format from its fields ({fields}); pass format= one of "
                f"{', '.join(FORMATS)}, or base_model_id",
            )
        self.format = detected
        self.checker = make_checker(
            detected, self.plan.profile, self.plan.customization_type, self.dataset_bucket
        )
        return self.checker

    def _record_problems(
        self, name: str, line: int, record: dict[str, Any], chars: int, problems: RecordProblems
    ) -> None:
        for code, path, message in problems:
            self._error(name, line, path, code, message)
        if not problems and chars > self.max_record_chars:
            self._error(name, line, "", "too-long", self._too_long_message(chars))
        if not self._mismatch_noted and self.format is not None:
            looks = detect_format(record)
            if looks is not None and looks != self.format:
                self._mismatch_noted = True
                self._warn(
                    "format-mismatch",
                    f"{name} line {line} looks like the {looks} format, but {self.format} is expected "
                    f"({self.format_source}); convert the records, or pass format= if the choice is wrong",
                )

    def _too_long_message(self, chars: int) -> str:
        limits = self.plan.limits
        tokens = limits.max_total_tokens if limits else None
        url = limits.doc_url if limits else PREPARE_URL
        note = f" ({limits.quota_note})" if limits and limits.quota_note else ""
        return (
            f"the record has {chars:,} characters of text, over Bedrock's quota of "
            f"{self.max_record_chars:,}: {tokens:,} tokens{note} x {DOCUMENTED_CHARS_PER_TOKEN} characters "
            f"per token, Bedrock's own estimate (see {url})"
        )

    def _token_warning(self, name: str, line: int, chars: int) -> None:
        limits = self.plan.limits
        tokens = limits.max_total_tokens if limits else 0
        estimate = math.ceil(chars / self.plan.chars_per_token)
        self._warn(
            "token-estimate",
            f"{name} line {line}: ~{estimate:,} tokens estimated at {self.plan.chars_per_token:g} characters "
            f"per token, over the {tokens:,}-token limit; within Bedrock's character quota, but it may be "
            "truncated or rejected",
        )

    def _not_an_object(self, name: str, line: int, record: object) -> None:
        shape = self.checker.expected_shape if self.checker else "{...}"
        got = "a list" if isinstance(record, list) else f"{type(record).__name__} {_short(record)}"
        self._error(name, line, "", "not-object", f"expected a JSON object like {shape}, got {got}")

    def _overlong(self, name: str, line: int, length: int, carriage_returns: bool) -> None:
        if carriage_returns:
            message = (
                f"no line end in {length:,} bytes but carriage returns: the file uses CR (classic Mac) line "
                "ends; Bedrock needs LF (or CRLF)"
            )
        else:
            message = (
                f"the line is {length:,} bytes long, far over any record Bedrock accepts; is the whole "
                "file on one line?"
            )
        self._error(name, line, "", "line-too-long", message)

    # -- the end --------------------------------------------------------------------------------

    def finish(self, training: IO[bytes] | None = None, validation: IO[bytes] | None = None) -> DatasetReport:
        """Place the held-back records, check the dataset-level limits and build the report."""
        self._place_held(training, validation)
        if self.format is not None and self.plan.format is None:
            self.format_source = "detected from the first record"
        records = sum(source.records for source in self.sources)
        kept = self.training_records + self.validation_records
        if records == 0 and not self.dataset_errors:
            empty = [source.name for source in self.sources if source.stats.bytes_read == 0]
            detail = f" ({', '.join(empty)} {'is' if len(empty) == 1 else 'are'} empty)" if empty else ""
            self.dataset_errors.append(f"the dataset has no records{detail}")
        elif kept == 0 and records and not self.dataset_errors:
            self.dataset_errors.append("no valid record is left to train on")
        limits = self._check_limits(self.plan.limits)
        if self.seen.saturated:
            self.warnings.append(
                f"duplicate detection is exact over the first {self.seen.stored_when_saturated:,} distinct "
                "records; later records were checked against those only, to keep memory bounded"
            )
        for kind, count in self.warning_counts.items():
            if count > 1:
                self.warnings.append(f"{count:,} warnings of kind {kind!r} in all")
        counts = {
            "lines": sum(source.lines for source in self.sources),
            "records": records,
            "valid": sum(source.valid for source in self.sources),
            "invalid": sum(source.invalid for source in self.sources),
            "blank_lines": sum(source.blank_lines for source in self.sources),
            "duplicates": sum(source.duplicates for source in self.sources),
            "duplicates_removed": self.duplicates_removed,
            "training_records": self.training_records,
            "validation_records": self.validation_records,
        }
        return DatasetReport(
            plan=self.plan,
            format=self.format,
            format_source=self.format_source,
            sources=self.sources,
            counts=counts,
            errors=self.errors,
            error_counts=dict(self.error_counts.most_common()),
            errors_total=self.errors_total,
            dataset_errors=self.dataset_errors,
            warnings=self.warnings,
            limits=limits,
            characters=self.characters,
            validation_characters=self.validation_characters,
            max_record_characters=self.max_record_characters,
            bytes_written=dict(self.bytes_written),
            duplicates=self.duplicates,
        )

    def _place_held(self, training: IO[bytes] | None, validation: IO[bytes] | None) -> None:
        held_training, held_validation = self._held_training, self._held_validation
        if held_training.key >= 0 and self.validation_records == 0 and self.training_records >= 2:
            held_training.key, held_validation.key, held_validation.line = -1, 0, held_training.line
            self.training_records -= 1
            self.validation_records += 1
            self.validation_characters += held_training.chars
        elif held_validation.key >= 0 and self.training_records == 0 and self.validation_records >= 2:
            held_validation.key, held_training.key, held_training.line = -1, 0, held_validation.line
            self.validation_records -= 1
            self.training_records += 1
            self.validation_characters -= held_validation.chars
        if held_training.key >= 0:
            self._write(training, [held_training.line], "training")
        if held_validation.key >= 0:
            self._write(validation, [held_validation.line], "validation")

    def _check_limits(self, limits: Limits | None) -> list[dict[str, Any]]:
        """Dataset-level limits: record counts, file sizes, media mixing."""
        checked: list[dict[str, Any]] = []
        checker = self.checker
        if checker is not None and checker.records_with_images and checker.records_with_videos:
            self.dataset_errors.append(
                f"{checker.records_with_images:,} records hold images and "
                f"{checker.records_with_videos:,} hold videos; a Nova dataset is text with images or text "
                "with videos, not both"
            )
        if limits is None:
            return checked
        training, validation = self.training_records, self.validation_records
        total = training + validation
        record_chars = self.max_record_chars if self.max_record_chars < NO_LIMIT else None
        # Records over the character quota are errors already; this row shows the longest one kept.
        rows: list[tuple[str, int | None, int, str, bool]] = [
            ("max_record_characters", record_chars, self.max_record_characters, "max", False),
            ("min_records", limits.min_records, total, "min", False),
            ("max_training_records", limits.max_training_records, training, "max", False),
            ("max_validation_records", limits.max_validation_records, validation, "max", False),
            ("max_total_records", limits.max_total_records, total, "max", limits.total_records_adjustable),
            ("max_training_bytes", limits.max_training_bytes, self.bytes_written["training"], "max", False),
            (
                "max_validation_bytes",
                limits.max_validation_bytes,
                self.bytes_written["validation"],
                "max",
                False,
            ),
        ]
        for name, limit, observed, kind, adjustable in rows:
            if limit is None:
                continue
            ok = observed >= limit if kind == "min" else observed <= limit
            checked.append(
                {
                    "limit": name,
                    "value": limit,
                    "observed": observed,
                    "ok": ok,
                    "adjustable": adjustable,
                    "source": limits.doc_url,
                }
            )
            if ok:
                continue
            message = _limit_message(name, limit, observed, limits.doc_url)
            if adjustable:
                self.warnings.append(message + " (a default quota: raise it through Service Quotas)")
            else:
                self.dataset_errors.append(message)
        return checked


_BLANK = -2
_INVALID = -1


def _format_unknown(line: object) -> int:
    """Stands in for the fast path until the first record has shown the format."""
    raise ValueError("the format is not known yet")


def _record_char_limit(limits: Limits | None, chars_per_token: float) -> int:
    if limits is None or limits.max_total_tokens is None:
        return NO_LIMIT
    return int(limits.max_total_tokens * chars_per_token)


def _limit_message(name: str, limit: int, observed: int, url: str) -> str:
    subject, bound = {
        "min_records": ("the dataset has {} records", "needs at least {}"),
        "max_training_records": ("the training set has {} records", "takes at most {}"),
        "max_validation_records": (
            "the validation set has {} records",
            "takes at most {} (lower validation_split)",
        ),
        "max_total_records": ("training and validation hold {} records", "takes at most {}"),
        "max_training_bytes": ("the training file is {} bytes", "takes at most {}"),
        "max_validation_bytes": ("the validation file is {} bytes", "takes at most {}"),
    }[name]
    return f"{subject.format(f'{observed:,}')}; Bedrock {bound.format(f'{limit:,}')} (see {url})"


_PRETTY_MESSAGE = (
    "the file is pretty-printed JSON: records spread over several lines; Bedrock needs JSON Lines, each "
    "record on one line (json.dumps without indent)"
)
_ARRAY_MESSAGE = (
    "the file is a JSON array; Bedrock needs JSON Lines: one object per line, no enclosing [ ] and no "
    "commas between records"
)


def _looks_like_array_file(value: object) -> bool:
    """A first line that is a whole array of objects: a JSON array file written on one line."""
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_problem(line: bytes, exc: orjson.JSONDecodeError, last_unterminated: bool) -> tuple[str, str]:
    """A JSON syntax error explained for the mistakes real files make."""
    reason = str(exc).split(": line ", 1)[0]
    column = exc.colno
    if "depth limit" in reason:
        return (
            "json-depth",
            f"the record is nested deeper than {ORJSON_MAX_DEPTH} levels (at column {column}): valid JSON "
            "perhaps, but no Bedrock record nests like that (a prompt and a completion, or a list of "
            "messages)",
        )
    stripped = line.strip()
    # A CR can stand in JSON only as white space between tokens, so one inside a line that fails
    # to parse is a line end: the whole file uses CR alone.
    if b"\r" in stripped:
        return (
            "line-ends",
            "the line holds carriage returns: CR (classic Mac) line ends? Bedrock needs LF (or CRLF)",
        )
    if last_unterminated:
        return (
            "truncated",
            f"the last line has no newline and is not complete JSON ({reason} at column {column}): the file "
            "looks truncated (an interrupted export or upload?)",
        )
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as bad:
        return (
            "encoding",
            f"invalid UTF-8 at byte offset {bad.start} of the line (byte 0x{line[bad.start]:02x}); Bedrock "
            "needs UTF-8 text - re-export the file as UTF-8",
        )
    if stripped.endswith(b","):
        try:
            orjson.loads(stripped[:-1])
        except orjson.JSONDecodeError:
            pass
        else:
            return (
                "trailing-comma",
                "the line ends with a comma after the record; JSON Lines has no commas between records - "
                "remove it",
            )
    if "trailing comma" in reason:
        return (
            "trailing-comma",
            f"trailing comma at column {column}, before a closing bracket; JSON does not allow it - remove "
            "the comma",
        )
    if (
        stripped in (b"{", b"[", b"}", b"]", b"},", b"],")
        or (reason.startswith("unexpected end") and stripped.endswith((b"{", b"[", b",")))
        or (stripped.startswith(b'"') and "after document" in reason)
    ):
        return (
            "multi-line",
            "the record stops at the end of the line: a JSON object spread over several lines "
            "(pretty-printed)? Bedrock needs each record on one line",
        )
    at = exc.pos
    following = line[at : at + 9] if 0 <= at < len(line) else b""
    if following.startswith(b"'"):
        return (
            "json",
            f"single quotes at column {column}: this is a Python dict (str(record)), not JSON; write records "
            "with json.dumps",
        )
    for word in (b"NaN", b"Infinity", b"-Infinity", b"None", b"True", b"False", b"undefined"):
        if following.startswith(word):
            return ("json", f"{word.decode()} at column {column} is not a JSON value (use null, true, false)")
    if "after document" in reason:
        return (
            "json",
            f"more JSON after the record at column {column}: two records on one line? Put each on its own "
            "line",
        )
    if "control character" in reason:
        return (
            "json",
            f"a raw control character (a tab or line break) inside a string at column {column}; escape it "
            "as \\t or \\n",
        )
    return ("json", f"not valid JSON: {reason} at column {column}")
