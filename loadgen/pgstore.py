"""`PgStore`: the store-neutral operations (loadgen.ops) as SQL on one pglogical region.

The campaign table holds one row per item: `pk`, `hh_vid` (the version), `hh_prev` (the
version it replaced: the conflict log then shows which overwrites were causal) and `doc`, the
other attributes in DynamoDB's typed JSON. Each write is one statement that also returns what
it replaced (`hh_prev = cur.hh_vid ... RETURNING hh_prev`), so hothot learns the version graph
on this store as on DynamoDB; an attribute set that versions its attributes keeps each
replaced attribute vid in `hh_prev_<attr>` the same way. Only the local region is ever seen:
a guard (`VersionIs`, `NewerThan`) is a WHERE clause on the local row, as a DynamoDB condition
sees the local replica. A connection that cannot be made is `NotSent` (nothing was applied), a
connection lost mid-call `OutcomeUnknown` (as a DynamoDB timeout), any other SQL error a
`StoreError` named by its SQLSTATE.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg import sql

from loadgen.client import CONDITION_FAILED, NotSent, OutcomeUnknown, store_error
from loadgen.ops import (
    PAD,
    VID,
    Answer,
    Append,
    Increment,
    Item,
    NewerThan,
    Op,
    Overwrite,
    Read,
    SetAttributes,
    VersionIs,
    Write,
)

PREV = "hh_prev"


def schema(table: str) -> list[sql.Composed]:
    """The statements that create the campaign table (run in every region)."""
    return [
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (pk text PRIMARY KEY, hh_vid text, hh_prev text, "
            "doc jsonb NOT NULL DEFAULT '{{}}'::jsonb)"
        ).format(sql.Identifier(table))
    ]


def item_of(pk: str, vid: str | None, doc: dict[str, Any]) -> Item:
    """A row as the item workloads and the verdict see (DynamoDB's typed form)."""
    item: Item = {"pk": {"S": pk}}
    if vid is not None:
        item[VID] = {"S": vid}
    item.update({k: v for k, v in doc.items() if v is not None})
    return item


class PgStore:
    """One region of a pglogical mesh through one psycopg connection (opened on first use,
    reopened after a connection error)."""

    def __init__(self, region: str, dsn: str, table: str, *, timeout_s: float = 5.0) -> None:
        self.region = region
        self.dsn = dsn
        self.table = sql.Identifier(table)
        self.timeout_s = timeout_s
        self._conn: psycopg.Connection[Any] | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> psycopg.Connection[Any]:
        """The open connection; a connection that cannot be made is NotSent (nothing left)."""
        if self._conn is None or self._conn.closed:
            ms = int(self.timeout_s * 1000)
            try:
                self._conn = psycopg.connect(
                    self.dsn,
                    autocommit=True,
                    connect_timeout=max(1, int(self.timeout_s)),
                    options=f"-c statement_timeout={ms} -c lock_timeout={ms}",
                )
            except psycopg.OperationalError as exc:
                raise NotSent("connect", _first_line(exc)) from exc
        return self._conn

    def _run(self, query: sql.Composable, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        conn = self._connection()
        try:
            return conn.execute(query, params).fetchall()
        except psycopg.OperationalError as exc:  # the connection broke mid-call
            self.close()
            raise OutcomeUnknown(f"{type(exc).__name__}: {_first_line(exc)}") from exc
        except psycopg.Error as exc:
            raise store_error(exc.sqlstate or type(exc).__name__, _first_line(exc)) from exc

    def perform(self, op: Op, *, measured: bool = True) -> Answer:
        if isinstance(op, Read):
            rows = self._run(
                sql.SQL("SELECT hh_vid, doc FROM {} WHERE pk = %(pk)s").format(self.table),
                {"pk": op.key},
            )
            return Answer(item=item_of(op.key, rows[0][0], rows[0][1]) if rows else None)
        query, params = write_statement(self.table, op)
        rows = self._run(query, params)
        if not rows:
            raise store_error(
                CONDITION_FAILED, "the guard did not hold on the local row", self._current(op)
            )
        prev, *attr_prevs = rows[0]
        if prev is None and not attr_prevs:
            return Answer(old=None, sized=False)
        old: Item = {} if prev is None else {VID: {"S": prev}}
        for attr, value in zip(_versioned(op), attr_prevs, strict=True):
            if value is not None:
                old[f"{VID}_{attr}"] = value
        return Answer(old=old or None, sized=False)

    def _current(self, op: Write) -> Item | None:
        """The local item a rejected guard was checked against (for `blocked_by`)."""
        if not isinstance(op.guard, NewerThan):
            return None
        rows = self._run(
            sql.SQL("SELECT hh_vid, doc FROM {} WHERE pk = %(pk)s").format(self.table),
            {"pk": op.key},
        )
        return item_of(op.key, rows[0][0], rows[0][1]) if rows else None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _versioned(op: Write) -> list[str]:
    return list(op.fields) if isinstance(op, SetAttributes) and op.versioned else []


def write_statement(table: sql.Identifier, op: Write) -> tuple[sql.Composable, dict[str, Any]]:
    """One INSERT ... ON CONFLICT DO UPDATE (or a guarded UPDATE) returning `hh_prev` and,
    for a versioned attribute set, each attribute's replaced vid."""
    params: dict[str, Any] = {"pk": op.key, "vid": op.vid}
    fresh = op.image({})  # the row when the item was absent
    fresh.pop("pk")
    fresh.pop(VID, None)
    params["fresh"] = json.dumps(fresh)
    update = _doc_update(op, params)
    returning = [sql.SQL("hh_prev")]
    for attr in _versioned(op):
        prev, vid = sql.Literal(f"{PREV}_{attr}"), sql.Literal(f"{VID}_{attr}")
        returning.append(sql.SQL("doc -> {}").format(prev))
        update = sql.SQL("{} || jsonb_build_object({}, cur.doc -> {})").format(update, prev, vid)
    ret = sql.SQL(", ").join(returning)
    if isinstance(op.guard, VersionIs) and op.guard.vid is not None:
        params["seen"] = op.guard.vid
        query = sql.SQL(
            "UPDATE {t} AS cur SET hh_vid = %(vid)s, hh_prev = cur.hh_vid, doc = {u} "
            "WHERE cur.pk = %(pk)s AND cur.hh_vid = %(seen)s RETURNING {r}"
        ).format(t=table, u=update, r=ret)
        return query, params
    guard = sql.SQL("")
    if isinstance(op.guard, VersionIs):
        guard = sql.SQL(" WHERE cur.hh_vid IS NULL")
    elif isinstance(op.guard, NewerThan):
        params["ts"] = repr(op.guard.value)
        guard = sql.SQL(
            " WHERE cur.doc -> {a} IS NULL OR (cur.doc -> {a} ->> 'N')::numeric < %(ts)s::numeric"
        ).format(a=sql.Literal(op.guard.attr))
    query = sql.SQL(
        "INSERT INTO {t} AS cur (pk, hh_vid, hh_prev, doc) VALUES (%(pk)s, %(vid)s, NULL, "
        "%(fresh)s::jsonb) ON CONFLICT (pk) DO UPDATE SET hh_vid = excluded.hh_vid, "
        "hh_prev = cur.hh_vid, doc = {u}{g} RETURNING {r}"
    ).format(t=table, u=update, g=guard, r=ret)
    return query, params


def _doc_update(op: Write, params: dict[str, Any]) -> sql.Composable:
    """The new `doc` of an existing row, from `cur.doc`."""
    if isinstance(op, Overwrite):
        return sql.SQL("excluded.doc")
    if isinstance(op, SetAttributes):
        params["sets"] = json.dumps(op.sets())
        doc = sql.SQL("cur.doc || %(sets)s::jsonb")
    elif isinstance(op, Increment):
        params["by"] = op.by
        doc = sql.SQL(
            "cur.doc || jsonb_build_object({a}, jsonb_build_object('N', "
            "(coalesce(cur.doc -> {a} ->> 'N', '0')::numeric + %(by)s::numeric)::text))"
        ).format(a=sql.Literal(op.attr))
    elif isinstance(op, Append):
        params["element"] = json.dumps([{"S": op.element}])
        doc = sql.SQL(
            "cur.doc || jsonb_build_object({a}, jsonb_build_object('L', "
            "coalesce(cur.doc -> {a} -> 'L', '[]'::jsonb) || %(element)s::jsonb))"
        ).format(a=sql.Literal(op.attr))
    else:
        raise TypeError(f"no SQL for operation {type(op).__name__}")
    if op.padding:
        params["pad"] = json.dumps(op.padding[PAD])
        doc = sql.SQL(
            "{} || jsonb_build_object('hh_pad', coalesce(cur.doc -> 'hh_pad', %(pad)s::jsonb))"
        ).format(doc)
    return doc
