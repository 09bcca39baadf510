"""Record chains: linking append-only rows into per-student hash chains, and checking them.

Each kind of chained record (`accounts.models.ChainedRecord`: signatures, revocations, evaluations,
approved hours, the access log) keeps one chain per student. A row's digest is
HMAC(SIGNATURE_KEY, kind, student, position, previous row's digest, the row's content), and the
chain's head (`ChainHead`) keeps the length and last digest under a seal of its own. Whoever holds
the database but not the key can change nothing unnoticed: an edited row no longer matches its
digest, a deleted row leaves a gap (or, at the end, a head longer than the chain), an inserted row
cannot carry a digest that the next row follows from.

Appends to one chain wait for each other on the head's row lock; appends to different students'
chains never meet, so nothing here takes a lock wider than one (kind, student) head.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, Q
from django.utils.translation import gettext as _

from accounts.models import GENESIS, ChainedRecord, ChainHead, chain_value


class BrokenChain(ValidationError):
    """A chain's head fails its seal: its rows were changed, or SIGNATURE_KEY is not the key that
    sealed them. Nothing more is recorded for that student until the program office has looked."""


def chained_models() -> list[type[ChainedRecord]]:
    """Every kind of chained record, found among the installed models (accounts imports no domain app)."""
    return sorted(
        (model for model in apps.get_models() if issubclass(model, ChainedRecord)), key=lambda model: model.CHAIN
    )


def link(rows: Sequence[ChainedRecord]) -> None:
    """Give rows of one kind the next positions of their students' chains, in the order given, with
    their digests, and move each chain's head past them. Call it in the transaction that then writes
    the rows: the heads stay locked until that transaction ends."""
    if not rows:
        return
    model = type(rows[0])
    if any(type(row) is not model for row in rows):
        raise ValueError("link() takes rows of one kind.")
    if not connection.in_atomic_block:
        raise RuntimeError("link() must run inside the transaction that writes the rows.")
    heads = _locked_heads(model.CHAIN, {row.student_id for row in rows})
    if not all(head.is_sealed() for head in heads.values()):
        # Extending a forged head would seal the forgery: whatever it hides would then verify.
        raise BrokenChain(
            _(
                "This student's records fail their integrity check, so nothing more can be recorded for them. "
                "The program office must run verify_records."
            )
        )
    for row in rows:
        head = heads[row.student_id]
        head.length += 1
        row.chain_position = head.length
        row.chain_digest = model.link_digest(
            student_id=row.student_id, position=head.length, previous=head.last_digest, values=row.chain_values()
        )
        head.last_digest = row.chain_digest
    for head in heads.values():
        head.seal = ChainHead.compute_seal(
            kind=head.kind, student_id=head.student_id, length=head.length, last_digest=head.last_digest
        )
    ChainHead.objects.bulk_update(list(heads.values()), ["length", "last_digest", "seal"])


def _locked_heads(kind: str, student_ids: set[int]) -> dict[int, ChainHead]:
    """The chains' heads, locked FOR UPDATE in student order (so two writers never wait on each other
    in a circle). A student's first row of a kind creates the head (ON CONFLICT DO NOTHING, so two
    first rows at once both find the one head and queue on its lock)."""

    def locked() -> dict[int, ChainHead]:
        found = ChainHead.objects.select_for_update().filter(kind=kind, student_id__in=student_ids)
        return {head.student_id: head for head in found.order_by("student_id")}

    heads = locked()
    if len(heads) < len(student_ids):
        seal = ChainHead.compute_seal
        ChainHead.objects.bulk_create(
            [
                ChainHead(
                    kind=kind,
                    student_id=student_id,
                    length=0,
                    last_digest=GENESIS,
                    seal=seal(kind=kind, student_id=student_id, length=0, last_digest=GENESIS),
                )
                for student_id in sorted(student_ids - set(heads))
            ],
            ignore_conflicts=True,
        )
        heads = locked()
    return heads


def linked(rows: Sequence[ChainedRecord]) -> set[int]:
    """The ids of these rows (one kind, one student) that follow from the row before them in the
    chain, read in one query: what a page checks before it shows a record as signed."""
    if not rows:
        return set()
    model = type(rows[0])
    student_id = rows[0].student_id
    # Always one query, even for a chain's first row alone (position 0 is never stored): a page's
    # query count must not depend on which rows it shows.
    before = {row.chain_position - 1 for row in rows if row.chain_position} or {0}
    previous_digest = dict(
        model._default_manager.filter(Q(student_id=student_id), chain_position__in=before).values_list(
            "chain_position", "chain_digest"
        )
    )
    previous_digest[0] = GENESIS
    good = set()
    for row in rows:
        if not row.chain_position or row.student_id != student_id:
            continue
        previous = previous_digest.get(row.chain_position - 1)
        expected = model.link_digest(
            student_id=student_id, position=row.chain_position, previous=previous or "", values=row.chain_values()
        )
        if previous is not None and hmac.compare_digest(expected, row.chain_digest):
            good.add(row.pk)
    return good


# --- Checking every chain end to end (manage.py verify_records) ------------------------------------

EDITED, MISSING, INSERTED, HEAD_MISMATCH = "edited", "missing", "inserted", "head mismatch"


@dataclass(frozen=True)
class Break:
    """The first broken link of a chain, or a row whose own signed content changed."""

    table: str
    student_id: int
    position: int | None
    row_id: int | None
    what: str
    detail: str

    def __str__(self) -> str:
        position = f"position {self.position}" if self.position is not None else "no position"
        row = f"row {self.row_id}" if self.row_id is not None else "no row"
        return f"{self.table}: student {self.student_id}, {position}, {row}: {self.what}: {self.detail}"


@dataclass
class Tally:
    chains: int = 0
    rows: int = 0


@dataclass(frozen=True)
class _Row:
    pk: int
    student_id: int
    position: int | None
    digest: str
    values: list[Any]


@dataclass(frozen=True)
class _Head:
    length: int
    last_digest: str
    sealed: bool


def check(model: type[ChainedRecord], tally: Tally, *, chunk_size: int = 2000) -> Iterator[Break]:
    """Walk every chain of one kind, streaming rows in (student, position) order with the heads beside
    them: memory holds one chunk, whatever the table's size. Yields each chain's first break, and each
    row whose own signed content changed; counts chains and rows into the tally."""
    table = model._meta.db_table
    fields = ("pk", "student_id", "chain_position", "chain_digest", *model.CHAIN_FIELDS)
    stream = (
        model.chain_rows()
        .order_by("student_id", F("chain_position").asc(nulls_last=True), "pk")
        .values_list(*fields)
        .iterator(chunk_size=chunk_size)
    )
    rows = (_Row(raw[0], raw[1], raw[2], raw[3], [chain_value(value) for value in raw[4:]]) for raw in stream)
    heads = (
        (student_id, _Head(length, last_digest, ChainHead(kind=model.CHAIN, student_id=student_id, length=length,
                                                           last_digest=last_digest, seal=seal).is_sealed()))
        for student_id, length, last_digest, seal in ChainHead.objects.filter(kind=model.CHAIN)
        .order_by("student_id")
        .values_list("student_id", "length", "last_digest", "seal")
        .iterator(chunk_size=chunk_size)
    )  # fmt: skip
    pending: list[int] = []
    next_head = next(heads, None)
    for student_id, group in groupby(rows, key=lambda row: row.student_id):
        while next_head is not None and next_head[0] < student_id:
            tally.chains += 1
            yield from _rows_all_gone(table, next_head[0], next_head[1])
            next_head = next(heads, None)
        head = None
        if next_head is not None and next_head[0] == student_id:
            head = next_head[1]
            next_head = next(heads, None)
        tally.chains += 1
        chain_rows: list[_Row] = []
        broken = _walk(model, table, student_id, head, _counting(group, tally, chain_rows))
        if broken is not None:
            yield broken
        pending += [row.pk for row in chain_rows]
        chain_rows.clear()
        if len(pending) >= chunk_size:
            yield from _content_breaks(model, table, pending)
            pending = []
    while next_head is not None:
        tally.chains += 1
        yield from _rows_all_gone(table, next_head[0], next_head[1])
        next_head = next(heads, None)
    yield from _content_breaks(model, table, pending)


def _counting(group: Iterator[_Row], tally: Tally, seen: list[_Row]) -> Iterator[_Row]:
    for row in group:
        tally.rows += 1
        seen.append(row)
        yield row


def _rows_all_gone(table: str, student_id: int, head: _Head) -> Iterator[Break]:
    """A head with no row left: every row of the chain is gone (or the head itself is forged)."""
    if not head.sealed:
        yield Break(table, student_id, None, None, HEAD_MISMATCH, "the chain's head was edited (its seal fails)")
    elif head.length:
        yield Break(table, student_id, 1, None, MISSING, f"all {head.length} rows of the chain are missing")


def _walk(
    model: type[ChainedRecord], table: str, student_id: int, head: _Head | None, rows: Iterator[_Row]
) -> Break | None:
    """One chain, row by row: the first break, or None when every link and the head agree."""

    def follows(previous: str, position: int, row: _Row) -> bool:
        expected = model.link_digest(student_id=student_id, position=position, previous=previous, values=row.values)
        return hmac.compare_digest(expected, row.digest)

    previous, expected_position = GENESIS, 1
    broken: Break | None = None
    lookahead = _Peekable(rows)
    for row in lookahead:
        if broken is not None:
            continue  # counted, not judged: the chain is already broken
        if row.position is None:
            broken = Break(table, student_id, None, row.pk, INSERTED, "a row that must be a link has none")
        elif row.position > expected_position:
            gap = row.position - expected_position
            broken = Break(
                table, student_id, expected_position, row.pk, MISSING,
                f"{gap} row{'s' if gap > 1 else ''} before row {row.pk} (at position {row.position}) "
                f"{'are' if gap > 1 else 'is'} missing",
            )  # fmt: skip
        elif row.position < expected_position:
            broken = Break(table, student_id, row.position, row.pk, INSERTED, "a second row at this position")
        elif follows(previous, row.position, row):
            previous, expected_position = row.digest, expected_position + 1
        else:
            following = lookahead.peek()
            if (
                following is not None
                and following.position == row.position + 1
                and follows(row.digest, following.position, following)
            ):
                what, detail = EDITED, "its content no longer matches its digest"
            elif following is not None and follows(previous, row.position, following):
                what, detail = INSERTED, f"the chain goes on past it from the row before (row {following.pk})"
            elif following is None and head is not None and row.position > head.length:
                what, detail = INSERTED, f"beyond the end of the chain (its head counts {head.length} rows)"
            elif following is None and head is not None and hmac.compare_digest(head.last_digest, row.digest):
                what, detail = EDITED, "its content no longer matches its digest"
            else:
                what, detail = EDITED, "it does not follow from the row before (edited and relinked, or forged)"
            broken = Break(table, student_id, row.position, row.pk, what, detail)
    if broken is not None:
        return broken
    length = expected_position - 1
    if head is None:
        return Break(table, student_id, None, None, HEAD_MISMATCH, f"{length} rows but no chain head")
    if not head.sealed:
        return Break(table, student_id, None, None, HEAD_MISMATCH, "the chain's head was edited (its seal fails)")
    if head.length > length:
        return Break(
            table, student_id, length + 1, None, MISSING,
            f"the last {head.length - length} of {head.length} rows are missing",
        )  # fmt: skip
    if head.length < length or not hmac.compare_digest(head.last_digest, previous):
        return Break(
            table, student_id, length, None, HEAD_MISMATCH,
            f"the head counts {head.length} rows and ends elsewhere than the {length} rows found",
        )  # fmt: skip
    return None


def _content_breaks(model: type[ChainedRecord], table: str, pks: list[int]) -> Iterator[Break]:
    if not pks:
        return
    problems = model.content_problems(pks)
    if not problems:
        return
    where = ("pk", "student_id", "chain_position")
    for pk, student_id, position in (
        model._default_manager.filter(pk__in=list(problems)).order_by(*where[1:]).values_list(*where)
    ):
        yield Break(table, student_id, position, pk, EDITED, problems[pk])


class _Peekable:
    """An iterator that can look one row ahead, so a broken row can be judged by the row after it."""

    def __init__(self, rows: Iterator[_Row]) -> None:
        self._rows = rows
        self._ahead: list[_Row] = []

    def __iter__(self) -> _Peekable:
        return self

    def __next__(self) -> _Row:
        if self._ahead:
            return self._ahead.pop()
        return next(self._rows)

    def peek(self) -> _Row | None:
        if not self._ahead:
            following = next(self._rows, None)
            if following is None:
                return None
            self._ahead.append(following)
        return self._ahead[0]
