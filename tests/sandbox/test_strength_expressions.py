"""The expression language of `when` / `condition`, message by message and value by value.

A model writing a flow reads the parser's refusal (through flow validation) and fixes its expression
from it, so each refusal is pinned whole: what was expected, what was found, and where. Values are
checked the way JavaScript would compute them (precedence, associativity, literals, paths), and
`variable_paths` is checked for every kind of expression, since save-time scope checks rely on it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from runtype_mcp.sandbox.expressions import (
    MAX_LENGTH,
    MAX_NESTING,
    SUPPORTED,
    ExpressionError,
    evaluate,
    parse,
    variable_paths,
)
from runtype_mcp.sandbox.templating import UNDEFINED, TemplateContext

VARIABLES: dict[str, Any] = {
    "score": 80,
    "tier": "gold",
    "tags": ["a", "b"],
    "a": {"b": {"c": 1}, "true": "T", "0": "zero", "k": "K"},
    "$x": 1,
    "_y": 2,
}


@pytest.fixture(autouse=True)
def _deep_stack() -> Iterator[None]:
    """Nesting up to MAX_NESTING takes ~500 Python frames; mutation testing wraps every parser method
    in extra frames, which would hit Python's default limit of 1000 before the parser's own cap."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    yield
    sys.setrecursionlimit(limit)


def value(expression: str) -> Any:
    return evaluate(expression, TemplateContext(VARIABLES))


def refusal(expression: str) -> str:
    with pytest.raises(ExpressionError) as caught:
        parse(expression)
    return str(caught.value)


FUNCTIONS_LIST = "Number, String, Boolean, parseInt, parseFloat"
METHODS_LIST = ".includes(), .startsWith(), .endsWith(), .toLowerCase(), .toUpperCase(), .trim(), .indexOf()"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("score = 80", "unexpected character '=' at position 6"),
        ("score; tier", "unexpected character ';' at position 5"),
        ("#", "unexpected character '#' at position 0"),
        ("'abc", 'unexpected character "\'" at position 0'),
        ("score >", "expected a value, a variable or '(' but found the end at position 7"),
        ("  score  ==", "expected a value, a variable or '(' but found the end at position 11"),
        ("score ==\n  )", "expected a value, a variable or '(' but found ')' at position 11"),
        ("[1,]", "expected a value, a variable or '(' but found ']' at position 3"),
        ("(score > 1", "expected ')' but found the end at position 10"),
        ("{{ score", "expected '}}' but found the end at position 8"),
        ("{{ score )", "expected '}}' but found ')' at position 9"),
        ("tags[0", "expected ']' but found the end at position 6"),
        ("score ? 1", "expected ':' but found the end at position 9"),
        ("[1, 2", "expected ',' but found the end at position 5"),
        ("Number(1 2)", "expected ',' but found '2' at position 9"),
        ("score 80", "expected an operator or the end but found '80' at position 6"),
        ("score 'x'", "expected an operator or the end but found \"'x'\" at position 6"),
        ("tags.", "expected a property name but found the end at position 5"),
        ("a.[0]", "expected a property name but found '[' at position 2"),
        ("a..b", "expected a property name but found '.' at position 2"),
        ("a?.'b'", "expected a property name but found \"'b'\" at position 3"),
        ("alert(1)", f"function alert() is not supported (position 0); supported: {FUNCTIONS_LIST}"),
        ("  eval('1')", f"function eval() is not supported (position 2); supported: {FUNCTIONS_LIST}"),
        (
            "tier.constructor('x')",
            f"method .constructor() is not supported (position 5); supported: {METHODS_LIST}",
        ),
        ("a.b.c.d(1)", f"method .d() is not supported (position 6); supported: {METHODS_LIST}"),
        ("tags.0(1)", f"method .0() is not supported (position 5); supported: {METHODS_LIST}"),
        ("tags?.10()", f"method .10() is not supported (position 6); supported: {METHODS_LIST}"),
        ("", "expression is empty"),
        (" \n\t ", "expression is empty"),
        ("x" * (MAX_LENGTH + 1), "expression is longer than 4000 characters"),
        ("!" * MAX_NESTING + "score", "expression nests deeper than 50 levels"),
        ("(" * MAX_NESTING + "1" + ")" * MAX_NESTING, "expression nests deeper than 50 levels"),
        ("1 ? " * MAX_NESTING + "1" + " : 0" * MAX_NESTING, "expression nests deeper than 50 levels"),
    ],
)
def test_each_refusal_says_what_was_expected_what_was_found_and_where(expression: str, message: str) -> None:
    assert refusal(expression) == message


def test_the_limits_themselves_are_accepted() -> None:
    assert (MAX_LENGTH, MAX_NESTING) == (4000, 50)
    assert value(" " * (MAX_LENGTH - 5) + "score") == 80
    assert value("!" * (MAX_NESTING - 1) + "score") is False
    assert value("(" * (MAX_NESTING - 1) + "1" + ")" * (MAX_NESTING - 1)) == 1
    assert value("1 ? " * (MAX_NESTING - 1) + "7" + " : 0" * (MAX_NESTING - 1)) == 7
    # nesting is counted, not accumulated: many shallow groups side by side are fine
    assert value(" + ".join(["((1))"] * 200)) == 200


def test_the_supported_summary_names_every_construct() -> None:
    assert SUPPORTED == (
        "literals, variable paths (a.b, a?.b, a[0], a['k']), ! - + * / %, < <= > >=, == != === !==, "
        "&& || ??, a ? b : c, Number(), String(), Boolean(), parseInt(), parseFloat(), .length and "
        ".includes(), .startsWith(), .endsWith(), .toLowerCase(), .toUpperCase(), .trim(), .indexOf()"
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("100", 100),
        ("007", 7),
        ("1e2", 100.0),
        ("3.0", 3.0),
        ("1.", 1.0),
        ("1.5e+1", 15.0),
        ("2E-1", 0.2),
        ("0.5", 0.5),
        ('"a\\"b"', 'a"b'),
        ("'it\\'s'", "it's"),
        ("'say \"hi\"'", 'say "hi"'),
        ('""', ""),
        ("true", True),
        ("false", False),
        ("null", None),
        ("undefined", UNDEFINED),
        ("[]", []),
        ("[1, 'x', [true]]", [1, "x", [True]]),
        ("$x + _y", 3),
        ("a.0", "zero"),
        ("a[0]", "zero"),
        ("a['0']", "zero"),
        ("a[true]", "T"),
        ("a.true", "T"),
        ("a.k", "K"),
        ("a['k']", "K"),
        ("tags.1", "b"),
        ("tags[1]", "b"),
        ("tags?.1", "b"),
        ("tags?.0 + tags.1", "ab"),
        ("a.b.c", 1),
        ("a?.b?.c", 1),
        ("{{a.b.c}}", 1),
        ("a . b . c", 1),
        ("(a).b.c", 1),
        ("a['b']['c']", 1),
        ("[tags][0][1]", "b"),
        ('"x".length', 1),
        ("tags.length", 2),
        ("Number()", 0),
        ("Number('12') + 1", 13),
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 2 - 3", 5),
        ("7 - 2 + 1", 6),
        ("8 / 4 / 2", 1),
        ("2 % 3 * 2", 4),
        ("-2 * 3", -6),
        ("- -1", 1),
        ("+'3' + 1", 4),
        ("!0 + 1", 2),
        ("1 < 2 == true", True),
        ("3 > 2 > 1", False),
        ("true || false && false", True),
        ("null ?? 1 || 2", 1),
        ("0 || null ?? 5", 5),
        ("false ? 1 : true ? 2 : 3", 2),
        ("true ? false ? 1 : 2 : 3", 2),
        ("score > 50 ? tier : 'none'", "gold"),
        ("1 == 1 === true", True),
        ("1 + 1 < 3", True),
        ("1 < 2 && 3 < 2 || 4 < 5", True),
        ("score>=80&&tier=='gold'", True),
        ("score!==80||tier!='gold'", False),
        ("tags.includes('a') && tags.indexOf('b') == 1", True),
        ("String(tags.length).startsWith('2')", True),
        ("parseInt('7') + parseFloat('0.5')", 7.5),
        ("Boolean('')", False),
    ],
)
def test_values_follow_javascript(expression: str, expected: Any) -> None:
    result = value(expression)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("expression", "paths"),
    [
        ("score", [("score",)]),
        ("a.b[c].d", [("a", "b"), ("c",)]),
        ("a[b].c", [("a",), ("b",)]),
        ("a.b.includes(c)", [("a", "b"), ("c",)]),
        ("Number(x) + String(y, z)", [("x",), ("y",), ("z",)]),
        ("[a, b.c]", [("a",), ("b", "c")]),
        ("!a", [("a",)]),
        ("-a.b", [("a", "b")]),
        ("a + b * c", [("a",), ("b",), ("c",)]),
        ("a ? b : c", [("a",), ("b",), ("c",)]),
        ("a['k']", [("a", "k")]),
        ("a[0]", [("a", "0")]),
        ("a.0.b", [("a", "0", "b")]),
        ("a[true]", [("a",)]),
        ("a[1.5]", [("a",)]),
        ("a?.b", [("a", "b")]),
        ("{{ a.b }}", [("a", "b")]),
        ("(a)[b]", [("a",), ("b",)]),
        ("a[b[c]]", [("a",), ("b",), ("c",)]),
        ("x.trim()", [("x",)]),
        ("'s'.trim()", []),
        ("1 + 'x'", []),
        ("true ? null : undefined", []),
        ("a.length", [("a", "length")]),
    ],
)
def test_variable_paths_lists_every_variable_read_in_order(
    expression: str, paths: list[tuple[str, ...]]
) -> None:
    assert list(variable_paths(parse(expression))) == paths


def test_a_keyword_is_a_literal_not_a_variable_and_reads_nothing() -> None:
    context = TemplateContext({"true": "shadow", "null": "shadow", "undefined": "shadow"})
    assert evaluate("true", context) is True
    assert evaluate("null", context) is None
    assert evaluate("undefined", context) is UNDEFINED
    assert context.unresolved == [] and context.used == {}


def test_a_name_after_a_dot_is_a_key_even_when_it_is_a_keyword_or_number() -> None:
    assert list(variable_paths(parse("a.null.undefined.1"))) == [("a", "null", "undefined", "1")]
