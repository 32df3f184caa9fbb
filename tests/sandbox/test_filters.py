"""The record filter language: every op evaluated in SQLite and in Python must agree with the same expectations."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtype_mcp.sandbox.filters import (
    OPS,
    FilterError,
    compile_where,
    matches,
    parse_date_millis,
    validate_where,
)

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

RECORDS: list[dict[str, Any]] = [
    {
        "id": "rec_1",
        "name": "Acme Corp",
        "createdAt": "2026-11-20T10:00:00.000Z",
        "updatedAt": "2026-11-22T09:00:00.000Z",
        "metadata": {
            "tier": "gold",
            "score": 90,
            "active": True,
            "tags": ["a", "b"],
            "notes": None,
            "signup": "2026-11-01",
            "a.b": "dotted",
            'say "hi"': "quoted",
            "it's": "apostrophe",
            "with space": 1,
            "café": "yes",
            "path\\key": "backslash",
            "pct": "100%_off",
        },
    },
    {
        "id": "rec_2",
        "name": "beta labs",
        "createdAt": "2026-01-15T08:30:00.000Z",
        "updatedAt": "2026-10-01T00:00:00.000Z",
        "metadata": {
            "tier": "silver",
            "score": 75.5,
            "active": False,
            "signup": "2025-12-31T23:00-02:00",
            "count": "90",
        },
    },
    {
        "id": "rec_3",
        "name": "Gamma",
        "createdAt": "2026-11-22T09:59:59.999Z",
        "updatedAt": "2026-11-22T09:59:59.999Z",
        "metadata": {
            "tier": "platinum",
            "score": 100,
            "active": "true",
            "nested": {"x": 1},
            "signup": "soon",
            "pct": "100 off",
        },
    },
    {
        "id": "rec_4",
        "name": "delta",
        "createdAt": "2025-11-22T10:00:00.000Z",
        "updatedAt": "2025-11-22T10:00:00.000Z",
        "metadata": {},
    },
    {
        "id": "rec_5",
        "name": "Épsilon 😀",
        "createdAt": "2026-11-15T10:00:00.000Z",
        "updatedAt": "2026-11-15T10:00:00.000Z",
        "metadata": {"tier": "Gold", "score": True, "active": 1, "signup": 20261101},
    },
]
ALL = {1, 2, 3, 4, 5}


def cond(field: str, op: str, *value: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value[0]} if value else {"field": field, "op": op}


# (where, ids of the records it keeps)
CASES: list[tuple[dict[str, Any], set[int]]] = [
    (cond("tier", "eq", "gold"), {1}),
    (cond("score", "eq", 90), {1}),
    (cond("score", "eq", 90.0), {1}),
    (cond("score", "eq", 75.5), {2}),
    (cond("active", "eq", True), {1}),
    (cond("active", "eq", False), {2}),
    (cond("active", "eq", 1), {5}),
    (cond("count", "eq", 90), set()),
    (cond("name", "eq", "Gamma"), {3}),
    (cond("id", "eq", "rec_2"), {2}),
    (cond("createdAt", "eq", "2026-11-20T10:00:00.000Z"), {1}),
    (cond("a.b", "eq", "dotted"), {1}),
    (cond('say "hi"', "eq", "quoted"), {1}),
    (cond("it's", "eq", "apostrophe"), {1}),
    (cond("with space", "eq", 1), {1}),
    (cond("café", "eq", "yes"), {1}),
    (cond("path\\key", "eq", "backslash"), {1}),
    (cond("tier", "neq", "gold"), {2, 3, 4, 5}),
    (cond("active", "neq", True), {2, 3, 4, 5}),
    (cond("score", "gt", 90), {3}),
    (cond("score", "gte", 90), {1, 3}),
    (cond("score", "lt", 90), {2}),
    (cond("score", "lte", 75.5), {2}),
    (cond("name", "gt", "beta"), {2, 4, 5}),
    (cond("createdAt", "lt", "2026-01-01"), {4}),
    (cond("tier", "gt", 5), set()),
    (cond("score", "between", [80, 100]), {1, 3}),
    (cond("score", "between", [90, 95]), {1}),
    (cond("score", "between", [75.5, 80]), {2}),
    (cond("createdAt", "between", ["2026-11-01", "2026-11-21"]), {1, 5}),
    (cond("tier", "between", ["g", "h"]), {1}),
    (cond("name", "contains", "a"), {2, 3, 4}),
    (cond("pct", "contains", "%_"), {1}),
    (cond("tags", "contains", "a"), set()),
    (cond("name", "startsWith", "G"), {3}),
    (cond("name", "startsWith", "g"), set()),
    (cond("pct", "startsWith", "100%"), {1}),
    (cond("name", "startsWith", ""), ALL),
    (cond("name", "endsWith", "😀"), {5}),
    (cond("name", "endsWith", "labs"), {2}),
    (cond("name", "endsWith", ""), ALL),
    (cond("pct", "endsWith", "_off"), {1}),
    (cond("tier", "in", ["gold", "platinum"]), {1, 3}),
    (cond("score", "in", [90, 100.0]), {1, 3}),
    (cond("score", "in", [True]), {5}),
    (cond("active", "in", [1]), {5}),
    (cond("active", "in", [False]), {2}),
    (cond("active", "in", [True, False]), {1, 2}),
    (cond("score", "in", ["90"]), set()),
    (cond("tier", "in", []), set()),
    (cond("id", "in", ["rec_1", "rec_3"]), {1, 3}),
    (cond("id", "in", [3, True]), set()),
    (cond("id", "notIn", ["rec_1"]), {2, 3, 4, 5}),
    (cond("tier", "notIn", ["gold", "platinum"]), {2, 4, 5}),
    (cond("tier", "notIn", []), ALL),
    (cond("tier", "isSet"), {1, 2, 3, 5}),
    (cond("notes", "isSet"), set()),
    (cond("nested", "isSet"), {3}),
    (cond("tags", "isSet"), {1}),
    (cond("tier", "isNotSet"), {4}),
    (cond("notes", "isNotSet"), ALL),
    (cond("active", "isTrue"), {1}),
    (cond("active", "isFalse"), {2}),
    (cond("createdAt", "withinLastDays", 7), {1, 3, 5}),
    (cond("createdAt", "olderThanDays", 7), {2, 4}),
    (cond("updatedAt", "withinLastDays", 0.5), {1, 3}),
    (cond("signup", "withinLastDays", 30), {1}),
    (cond("signup", "olderThanDays", 30), {2}),
    ({"op": "and", "conditions": [cond("tier", "in", ["gold", "platinum"]), cond("score", "gte", 95)]}, {3}),
    ({"op": "or", "conditions": [cond("tier", "eq", "silver"), cond("active", "isTrue")]}, {1, 2}),
    (
        {
            "op": "or",
            "conditions": [
                {"op": "and", "conditions": [cond("tier", "eq", "gold"), cond("score", "gt", 50)]},
                {"op": "and", "conditions": [cond("name", "startsWith", "d"), cond("tier", "isNotSet")]},
            ],
        },
        {1, 4},
    ),
    (
        {
            "op": "and",
            "conditions": [cond("tier", "in", ["gold", "platinum"]), cond("updatedAt", "withinLastDays", 30)],
        },
        {1, 3},
    ),
]


def _connect(records: list[dict[str, Any]], *, ensure_ascii: bool = True) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE records (id TEXT, name TEXT, created_at TEXT, updated_at TEXT, metadata TEXT)")
    conn.executemany(
        "INSERT INTO records VALUES (?, ?, ?, ?, ?)",
        [
            (
                r["id"],
                r["name"],
                r["createdAt"],
                r["updatedAt"],
                json.dumps(r["metadata"], ensure_ascii=ensure_ascii),
            )
            for r in records
        ],
    )
    return conn


def _sql_ids(conn: sqlite3.Connection, where: dict[str, Any] | None) -> set[int]:
    sql, params = compile_where(where, now=NOW)
    rows = conn.execute(f"SELECT id FROM records WHERE {sql}", params).fetchall()
    return {int(row[0].removeprefix("rec_")) for row in rows}


def _python_ids(where: dict[str, Any] | None) -> set[int]:
    return {int(r["id"].removeprefix("rec_")) for r in RECORDS if matches(where, r, now=NOW)}


@pytest.fixture(params=["sql", "sql-unescaped-json", "python"])
def evaluate(request: pytest.FixtureRequest) -> Iterator[Callable[[dict[str, Any] | None], set[int]]]:
    if request.param == "python":
        yield _python_ids
        return
    conn = _connect(RECORDS, ensure_ascii=request.param == "sql")
    yield lambda where: _sql_ids(conn, where)
    conn.close()


@pytest.mark.parametrize(("where", "expected"), CASES, ids=[json.dumps(c[0])[:80] for c in CASES])
def test_filter_keeps_the_same_records_in_sql_and_python(
    evaluate: Callable[[dict[str, Any] | None], set[int]], where: dict[str, Any], expected: set[int]
) -> None:
    assert evaluate(where) == expected


def test_every_op_is_exercised_by_the_shared_cases() -> None:
    used = {c["op"] for where, _ in CASES for c in [where, *where.get("conditions", [])] if "field" in c}
    assert used == set(OPS)


def test_no_filter_keeps_every_record(evaluate: Callable[[dict[str, Any] | None], set[int]]) -> None:
    assert evaluate(None) == ALL
    assert compile_where(None) == ("1", [])


def test_compiled_sql_is_parenthesised_and_carries_values_only_as_parameters() -> None:
    hostile = "x') OR 1=1 --"
    sql, params = compile_where(
        {"op": "or", "conditions": [cond("it's", "eq", hostile), cond('k"ey', "contains", hostile)]}, now=NOW
    )
    assert sql.startswith("(")
    assert sql.endswith(")")
    assert hostile not in sql
    assert "it's" not in sql
    assert hostile in params


def test_hostile_values_match_literally_instead_of_injecting() -> None:
    record = {**RECORDS[3], "id": "rec_9", "metadata": {"q": "x') OR 1=1 --"}}
    conn = _connect([RECORDS[0], record])
    try:
        assert _sql_ids(conn, cond("q", "eq", "x') OR 1=1 --")) == {9}
        assert _sql_ids(conn, cond("q", "startsWith", "x'")) == {9}
    finally:
        conn.close()


DATE_STRINGS = st.from_regex(
    r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[ Tt]{0,2}([0-9]{1,3}(:[0-9]{1,3}(:[0-9]{1,3}(\.[0-9]{0,5})?)?)?)?"
    r"[ ]{0,2}([Zz]|[+-][0-9]{1,2}:[0-9]{2}|[x.])?[ ]?\Z"
)


@settings(max_examples=300, deadline=None)
@given(DATE_STRINGS)
def test_date_strings_are_read_exactly_as_sqlite_julianday_reads_them(text: str) -> None:
    conn = sqlite3.connect(":memory:")
    try:
        (julian,) = conn.execute("SELECT julianday(?) * 86400000.0", [text]).fetchone()
    finally:
        conn.close()
    unix_epoch_in_julian_ms = 210_866_760_000_000
    expected = None if julian is None else round(julian) - unix_epoch_in_julian_ms
    assert parse_date_millis(text) == expected


SCALARS = st.one_of(
    st.sampled_from(["gold", "Gold", "g", "", "90", "2026-11-01", "a", "%_", "😀"]),
    st.integers(-5, 120),
    st.sampled_from([75.5, 0.5, True, False]),
)
FIELDS = st.sampled_from(
    [
        "id",
        "name",
        "createdAt",
        "updatedAt",
        "tier",
        "score",
        "active",
        "tags",
        "notes",
        "signup",
        "pct",
        "café",
        "nope",
    ]
)


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    op = draw(st.sampled_from(OPS))
    field = draw(FIELDS)
    if op in ("isSet", "isNotSet", "isTrue", "isFalse"):
        return cond(field, op)
    if op in ("withinLastDays", "olderThanDays"):
        return cond(field, op, draw(st.one_of(st.integers(0, 400), st.floats(0, 400))))
    if op in ("in", "notIn"):
        return cond(field, op, draw(st.lists(SCALARS, max_size=4)))
    if op == "between":
        low, high = draw(
            st.one_of(
                st.tuples(st.integers(0, 120), st.integers(0, 120)),
                st.tuples(st.text(max_size=3), st.text(max_size=3)),
            )
        )
        return cond(field, op, [low, high])
    if op in ("contains", "startsWith", "endsWith"):
        return cond(field, op, draw(st.text(max_size=3)))
    scalar = draw(SCALARS)
    if op not in ("eq", "neq") and isinstance(scalar, bool):
        scalar = int(scalar)
    return cond(field, op, scalar)


@settings(max_examples=300, deadline=None)
@given(st.lists(conditions(), min_size=1, max_size=3), st.sampled_from(["and", "or"]))
def test_random_filters_agree_between_sql_and_python(items: list[dict[str, Any]], op: str) -> None:
    where = items[0] if len(items) == 1 else {"op": op, "conditions": items}
    conn = _connect(RECORDS)
    try:
        assert _sql_ids(conn, where) == _python_ids(where)
    finally:
        conn.close()


# --- validation --------------------------------------------------------------------------------------


def _details(where: Any, **kwargs: Any) -> list[dict[str, Any]]:
    with pytest.raises(FilterError) as caught:
        validate_where(where, **kwargs)
    for detail in caught.value.details:
        assert set(detail) == {"code", "message", "path", "suggestion"}
        assert detail["suggestion"]
    return caught.value.details


def _one(where: Any, **kwargs: Any) -> dict[str, Any]:
    details = _details(where, **kwargs)
    assert len(details) == 1, details
    return details[0]


def test_valid_filters_pass_validation() -> None:
    for where, _ in CASES:
        try:
            validate_where(where)
        except FilterError as exc:  # pragma: no cover - the failure message
            pytest.fail(f"{where} was refused: {exc.details}")
        # The same filter with an unknown op is refused, so passing above is a decision, not a no-op.
        with pytest.raises(FilterError):
            validate_where({**where, "op": where["op"] + "X"})


def test_a_non_object_filter_is_an_invalid_type() -> None:
    detail = _one("tier = gold")
    assert (detail["code"], detail["path"]) == ("INVALID_TYPE", "where")


def test_an_unknown_op_lists_the_allowed_ops_and_guesses_the_intended_one() -> None:
    detail = _one(cond("tier", "equals", "gold"))
    assert (detail["code"], detail["path"]) == ("INVALID_ENUM", "where.op")
    assert 'did you mean "eq"' in detail["suggestion"]
    assert all(op in detail["suggestion"] for op in OPS)


def test_a_miscased_op_is_recognised_in_the_suggestion() -> None:
    assert 'did you mean "startsWith"' in _one(cond("name", "startswith", "A"))["suggestion"]


def test_problems_inside_groups_carry_dotted_paths() -> None:
    where = {"op": "and", "conditions": [cond("tier", "eq", "gold"), cond("score", "bogus", 1)]}
    assert _one(where)["path"] == "where.conditions.1.op"


def test_problems_inside_inner_groups_carry_two_level_paths() -> None:
    inner = {
        "op": "or",
        "conditions": [cond("a", "eq", 1), cond("b", "eq", 2), cond("c", "between", [1, 2, 3])],
    }
    detail = _one({"op": "and", "conditions": [inner]})
    assert (detail["code"], detail["path"]) == ("CUSTOM_VALIDATION", "where.conditions.0.conditions.2.value")
    assert "exactly 2 values" in detail["message"]


def test_groups_nested_deeper_than_two_levels_are_rejected() -> None:
    deepest = {"op": "and", "conditions": [cond("a", "isSet")]}
    where = {"op": "and", "conditions": [{"op": "or", "conditions": [cond("b", "isSet"), deepest]}]}
    detail = _one(where)
    assert (detail["code"], detail["path"]) == ("CUSTOM_VALIDATION", "where.conditions.0.conditions.1")
    assert "two levels" in detail["message"]


def test_no_value_ops_reject_a_value() -> None:
    detail = _one(cond("tier", "isSet", True))
    assert (detail["code"], detail["path"]) == ("CUSTOM_VALIDATION", "where.value")
    assert detail["message"] == "isSet takes no value"


def test_a_missing_field_op_or_value_is_a_missing_required_field() -> None:
    assert [(d["code"], d["path"]) for d in _details({"op": "eq", "value": 1})] == [
        ("MISSING_REQUIRED_FIELD", "where.field")
    ]
    assert [(d["code"], d["path"]) for d in _details({"field": "tier", "op": "eq"})] == [
        ("MISSING_REQUIRED_FIELD", "where.value")
    ]
    assert [(d["code"], d["path"]) for d in _details({"field": "tier"})] == [
        ("MISSING_REQUIRED_FIELD", "where.op")
    ]


def test_unrecognized_keys_are_named_with_the_allowed_keys() -> None:
    detail = _one({"field": "tier", "op": "eq", "value": "gold", "mode": "ci"})
    assert (detail["code"], detail["path"]) == ("UNRECOGNIZED_KEYS", "where")
    assert "mode" in detail["message"]
    assert "field, op, value" in detail["suggestion"]


def test_a_group_op_must_be_and_or_or() -> None:
    detail = _one({"op": "xor", "conditions": [cond("a", "isSet")]})
    assert (detail["code"], detail["path"], detail["suggestion"]) == (
        "INVALID_ENUM",
        "where.op",
        "use one of: and, or",
    )


def test_an_empty_group_is_rejected() -> None:
    detail = _one({"op": "and", "conditions": []})
    assert (detail["code"], detail["path"]) == ("CUSTOM_VALIDATION", "where.conditions")


@pytest.mark.parametrize(
    ("where", "code", "path"),
    [
        (cond("tier", "in", "gold"), "INVALID_TYPE", "where.value"),
        (cond("tier", "in", ["gold", {"x": 1}]), "INVALID_TYPE", "where.value.1"),
        (cond("tier", "contains", 5), "INVALID_TYPE", "where.value"),
        (cond("score", "gt", True), "INVALID_TYPE", "where.value"),
        (cond("score", "eq", [1]), "INVALID_TYPE", "where.value"),
        (cond("score", "between", 5), "INVALID_TYPE", "where.value"),
        (cond("score", "between", [1, "z"]), "CUSTOM_VALIDATION", "where.value"),
        (cond("score", "between", [1, None]), "INVALID_TYPE", "where.value.1"),
        (cond("createdAt", "withinLastDays", "7"), "INVALID_TYPE", "where.value"),
        (cond("createdAt", "olderThanDays", -1), "OUT_OF_RANGE", "where.value"),
        (cond("score", "eq", float("nan")), "INVALID_TYPE", "where.value"),
        (cond("", "eq", 1), "INVALID_TYPE", "where.field"),
        ({"op": "and", "conditions": "x"}, "INVALID_TYPE", "where.conditions"),
        ({"op": "or"}, "MISSING_REQUIRED_FIELD", "where.conditions"),
        ({"conditions": [cond("a", "isSet")]}, "MISSING_REQUIRED_FIELD", "where.op"),
    ],
)
def test_values_of_the_wrong_shape_are_reported_at_their_path(
    where: dict[str, Any], code: str, path: str
) -> None:
    detail = _one(where)
    assert (detail["code"], detail["path"]) == (code, path)


def test_eq_null_points_to_is_not_set() -> None:
    assert "isNotSet" in _one(cond("notes", "eq", None))["suggestion"]


def test_a_metadata_prefixed_field_suggests_the_bare_key() -> None:
    detail = _one(cond("metadata.tier", "eq", "gold"))
    assert detail["code"] == "CUSTOM_VALIDATION"
    assert '"field": "tier"' in detail["suggestion"]


def test_every_problem_is_reported_at_once_under_the_callers_path() -> None:
    where = {"op": "and", "conditions": [cond("a", "nope", 1), {"field": "b"}, cond("c", "in", 3)]}
    details = _details(where, path="recordFilter.where")
    assert [d["path"] for d in details] == [
        "recordFilter.where.conditions.0.op",
        "recordFilter.where.conditions.1.op",
        "recordFilter.where.conditions.2.value",
    ]


def test_compiling_or_matching_an_invalid_filter_raises_the_same_error() -> None:
    bad = cond("tier", "like", "g%")
    with pytest.raises(FilterError, match=r"where\.op: invalid op 'like'"):
        compile_where(bad)
    with pytest.raises(FilterError):
        matches(bad, RECORDS[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1970-01-01", 0),
        ("1970-01-01T00:00:01.5Z", 1500),
        ("1970-01-01T01:00+01:00", 0),
        ("1970-01-02 00:00:00 -01:30", 86_400_000 + 90 * 60_000),
        ("1970-01-01T24:00", 86_400_000),
        ("1970-13-01", None),
        ("1970-01-01T25:00", None),
        ("1970-01-01T10:00+15:00", None),
        ("1970-01-01Z", None),
        ("yesterday", None),
    ],
)
def test_date_strings_are_parsed_like_sqlite(text: str, expected: int | None) -> None:
    assert parse_date_millis(text) == expected


def test_a_naive_now_is_taken_as_utc() -> None:
    naive = datetime(2026, 11, 22, 10, 0)
    assert matches(cond("createdAt", "withinLastDays", 7), RECORDS[4], now=naive)
    assert not matches(cond("createdAt", "withinLastDays", 6.99), RECORDS[4], now=naive)


def test_dates_use_the_current_time_when_no_now_is_given() -> None:
    fresh = {**RECORDS[0], "createdAt": datetime.now(UTC).isoformat()}
    assert matches(cond("createdAt", "withinLastDays", 1), fresh)
