"""A set of 64-bit record hashes that stays within a fixed memory budget.

A Python ``set`` of ints costs about 60-70 bytes a record (a 32-byte int object plus a 16-byte slot
at most 60 % full) but adds in ~0.1 us. Datasets Bedrock accepts for fine-tuning hold at most tens of
thousands of records, where that is nothing; a continued pre-training file may hold millions. So
the set starts as a Python ``set`` and, past ``compact_after`` hashes, moves into an open-addressing
table of raw 64-bit ints in one ``array`` (8 bytes a slot, at most 3/4 full: 11-21 bytes a record),
slower to add to (~1 us) but a quarter of the memory.

The table never grows past ``max_bytes``: once full it stops taking new hashes (every record is
still checked against those it holds) and ``saturated`` says so, so memory stays bounded whatever
the size of the input, and the report can say how far exact duplicate detection reached.
"""

from __future__ import annotations

from array import array

# 1M hashes: ~65 MB as a set, then 8-16 MB as a table.
COMPACT_AFTER = 1 << 20
# 16M slots: exact detection over the first 12M distinct records.
MAX_BYTES = 128 * 1024 * 1024
_EMPTY = 0
_MIN_SLOTS = 1 << 15


class HashSet64:
    """Distinct signed 64-bit ints; ``add`` says whether the value was new."""

    def __init__(self, compact_after: int = COMPACT_AFTER, max_bytes: int = MAX_BYTES):
        self._set: set[int] | None = set()
        self._compact_after = compact_after
        self._max_slots = max(_MIN_SLOTS, 1 << (max_bytes // 8).bit_length() - 1)
        self._table = array("q")
        self._mask = 0
        self._used = 0
        self.saturated = False
        self.stored_when_saturated = 0

    def __len__(self) -> int:
        return len(self._set) if self._set is not None else self._used

    @property
    def compact(self) -> bool:
        return self._set is None

    @property
    def fast_set(self) -> set[int] | None:
        """The Python set while the values are few, for callers that test membership inline (a
        method call per record costs more than the test); None once compacted, when ``add`` is
        the way in. Call ``maybe_compact`` now and then when adding to this set directly."""
        return self._set

    @property
    def memory_bytes(self) -> int:
        """Roughly what the structure holds, for the report."""
        if self._set is not None:
            return len(self._set) * 64
        return len(self._table) * self._table.itemsize

    def maybe_compact(self) -> None:
        if self._set is not None and len(self._set) > self._compact_after:
            self._to_table(self._set)

    def add(self, value: int) -> bool:
        values = self._set
        if values is not None:
            size = len(values)
            values.add(value)
            if len(values) == size:
                return False
            if size >= self._compact_after:
                self._to_table(values)
            return True
        return self._table_add(value)

    def _to_table(self, values: set[int]) -> None:
        self._set = None
        self._resize(min(self._max_slots, _slots_for(len(values) * 2)))
        for value in values:
            self._table_add(value)

    def _resize(self, slots: int) -> None:
        old = self._table
        self._table = array("q", bytes(8 * slots))
        self._mask = slots - 1
        self._used = 0
        for value in old:
            if value != _EMPTY:
                self._table_add(value)

    def _table_add(self, value: int) -> bool:
        if value == _EMPTY:
            # 0 marks an empty slot; fold it onto another value (one more 2**-64 collision).
            value = 1
        table = self._table
        mask = self._mask
        # Python's hash of bytes already mixes its bits; the low bits index the table directly.
        index = value & mask
        while True:
            slot = table[index]
            if slot == _EMPTY:
                break
            if slot == value:
                return False
            index = (index + 1) & mask
        if self.saturated:
            return True
        table[index] = value
        self._used += 1
        if self._used * 4 > mask * 3:
            if mask + 1 >= self._max_slots:
                self.saturated = True
                self.stored_when_saturated = self._used
            else:
                self._resize((mask + 1) * 2)
        return True


def _slots_for(count: int) -> int:
    return max(_MIN_SLOTS, 1 << max(count - 1, 1).bit_length())
