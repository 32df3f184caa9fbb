"""A 2xx body of the wrong shape is a BadResponse that says what did not fit and whether the call
may have taken effect; it never passes for an empty result or an argument error."""

from __future__ import annotations

import httpx2
import pytest
from pydantic import BaseModel

from runtype_mcp.client.core import CallStats, Response, call_stats
from runtype_mcp.client.parsing import expect_fields, expect_keys, parse
from runtype_mcp.errors import BadResponse, render


class Page(BaseModel):
    name: str
    count: int


def response(body: object, *, status: int = 200, safe: bool = True) -> Response:
    return Response(status, body, httpx2.Headers(), safe=safe)


def test_a_body_of_the_right_shape_is_read_into_the_model() -> None:
    assert parse(Page, response({"name": "a", "count": 2}), "GET /x") == Page(name="a", count=2)


def test_one_misfit_names_the_field_and_the_problem() -> None:
    with pytest.raises(BadResponse) as info:
        parse(Page, response({"name": "a", "count": "many"}, status=201, safe=False), "POST /x")
    exc = info.value
    assert (exc.what, exc.status, exc.safe) == ("POST /x", 201, False)
    assert (
        exc.got
        == "JSON of another shape (count: Input should be a valid integer, unable to parse string as an integer)"
    )


def test_several_misfits_name_the_first_and_count_the_rest() -> None:
    with pytest.raises(BadResponse) as info:
        parse(Page, response({}), "GET /x")
    assert info.value.got == "JSON of another shape (name: Field required, and 1 more)"
    assert info.value.safe is True


def test_a_non_object_body_says_what_came_instead() -> None:
    with pytest.raises(BadResponse) as info:
        parse(Page, response([1]), "GET /x")
    assert info.value.got == "a JSON array"


def test_a_write_answer_without_its_counts_is_a_bad_response_with_the_real_status() -> None:
    assert expect_keys({"deleted": 0}, "POST /d", "deleted", "count") == {"deleted": 0}
    token = call_stats.set(CallStats(last_status=202))
    try:
        with pytest.raises(BadResponse) as info:
            expect_keys({"ok": True}, "POST /d", "deleted", "count")
    finally:
        call_stats.reset(token)
    assert (info.value.status, info.value.got) == (202, "JSON without deleted or count")
    assert "Runtype answered 202 but sent JSON without deleted or count" in render(
        info.value, "bulk_delete_records"
    )
    with pytest.raises(BadResponse) as info:
        expect_keys({}, "POST /d", "deleted")
    assert info.value.status == 200


def test_fields_must_be_present_and_of_their_type() -> None:
    kinds = {"count": int, "ids": (list, tuple)}
    assert expect_fields({"count": 3, "ids": None}, response({}), "x", kinds) == {"count": 3, "ids": None}
    with pytest.raises(BadResponse) as info:
        expect_fields({"count": "3", "ids": "a"}, response({}, safe=False), "x", kinds)
    assert (
        info.value.got == "JSON of another shape (count, ids of the wrong type)" and info.value.safe is False
    )
    with pytest.raises(BadResponse) as info:
        expect_fields({"count": None, "other": 1}, response({}), "x", kinds)
    assert info.value.got == "JSON without count or ids"
