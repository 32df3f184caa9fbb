"""What a wrong-shaped 2xx answer says (client/parsing.py): where it did not fit, and which status."""

from __future__ import annotations

import httpx2
import pytest
from pydantic import BaseModel, ValidationError, model_validator

from runtype_mcp.client.core import CallStats, Response, call_stats
from runtype_mcp.client.parsing import expect_fields, expect_keys, parse, shape_problem
from runtype_mcp.errors import BadResponse, render


class Listing(BaseModel):
    items: list[int]


class Whole(BaseModel):
    a: int = 0

    @model_validator(mode="after")
    def refuse(self) -> Whole:
        raise ValueError("inconsistent")


def response(body: object, *, status: int = 200, safe: bool = True) -> Response:
    return Response(status, body, httpx2.Headers(), safe=safe)


def test_a_nested_misfit_is_named_by_its_dotted_path() -> None:
    with pytest.raises(BadResponse) as info:
        parse(Listing, response({"items": [1, "x"]}), "GET /l")
    assert info.value.got == (
        "JSON of another shape (items.1: Input should be a valid integer, unable to parse string as an integer)"
    )


def test_two_misfits_count_one_more() -> None:
    with pytest.raises(BadResponse) as info:
        parse(Listing, response({"items": ["x", "y"]}), "GET /l")
    assert info.value.got.endswith("as an integer, and 1 more)")


def test_a_misfit_of_the_whole_body_is_named_body() -> None:
    with pytest.raises(BadResponse) as info:
        parse(Whole, response({}), "GET /w")
    assert info.value.got == "JSON of another shape ((body): Value error, inconsistent)"


def test_a_validation_error_without_details_still_says_another_shape() -> None:
    assert shape_problem(ValidationError.from_exception_data("Listing", [])) == "JSON of another shape"


@pytest.mark.parametrize("stats", [None, CallStats(), CallStats(last_status=0)])
def test_a_write_answer_without_counts_says_200_when_no_status_was_recorded(stats: CallStats | None) -> None:
    token = call_stats.set(stats)
    try:
        with pytest.raises(BadResponse) as info:
            expect_keys({"ok": True}, "POST /d", "deleted")
    finally:
        call_stats.reset(token)
    assert info.value.status == 200
    assert "Runtype answered 200 but sent JSON without deleted" in render(info.value, "bulk_delete_records")


def test_any_one_of_the_counts_is_enough() -> None:
    assert expect_keys({"count": 4}, "POST /d", "deleted", "count") == {"count": 4}


def test_a_missing_field_keeps_the_status_and_safety_of_the_answer() -> None:
    kinds = {"count": int}
    with pytest.raises(BadResponse) as info:
        expect_fields({"other": 1}, response({}, status=201, safe=False), "POST /x", kinds)
    assert (info.value.status, info.value.safe, info.value.got) == (201, False, "JSON without count")
    with pytest.raises(BadResponse) as info:
        expect_fields({"count": "1"}, response({}, status=202), "POST /x", kinds)
    assert (info.value.status, info.value.safe) == (202, True)
    assert info.value.got == "JSON of another shape (count of the wrong type)"


def test_a_field_of_its_type_passes_beside_absent_and_null_ones() -> None:
    kinds = {"count": int, "ids": list, "next": str}
    body = {"ids": [1], "next": None}
    assert expect_fields(body, response({}), "GET /x", kinds) == body


def test_each_bad_answer_names_the_request_it_answered() -> None:
    with pytest.raises(BadResponse) as info:
        parse(Listing, response([1]), "GET /v1/lists")
    assert (
        "Runtype answered 200 but sent a JSON array instead of the expected JSON (GET /v1/lists)."
        in render(info.value, "list_things")
    )
    with pytest.raises(BadResponse) as info:
        expect_keys({}, "POST /v1/bulk", "deleted")
    assert "sent JSON without deleted instead of the expected JSON (POST /v1/bulk)." in render(
        info.value, "bulk_delete_records"
    )
    with pytest.raises(BadResponse) as info:
        expect_fields({}, response({}), "PUT /v1/x", {"count": int})
    assert "sent JSON without count instead of the expected JSON (PUT /v1/x)." in render(info.value, "t")
    assert str(info.value) == "PUT /v1/x: HTTP 200 with JSON without count"
