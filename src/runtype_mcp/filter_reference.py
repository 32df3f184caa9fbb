"""How record filters treat a missing or null field: the full statement behind the filter description's
one line, served as a resource and checked against the sandbox by tests/test_filter_semantics.py."""

FILTERS_URI = "runtype://reference/filters"
FILTER_SEMANTICS = """\
Record filters: how each operator treats a field that is missing or holds null ("unset").

- eq, gt, gte, lt, lte, between, in: never match an unset field. They compare like with like
  (strings with strings, numbers with numbers, booleans with booleans); no type coercion.
- contains, startsWith, endsWith: never match an unset field; case-sensitive, strings only.
- neq, notIn: exact negations of eq and in, so they DO match records where the field is unset
  (and records whose value has another type).
- isSet: matches a field present with a non-null value. isNotSet: missing or null.
- isTrue, isFalse: match JSON booleans only; an unset field, "false", 0 or "" match neither.
- withinLastDays, olderThanDays: date strings only; an unset field matches neither.

So "status is not done" written as neq also counts records without a status; add
{"field": "status", "op": "isSet"} in an and-group to exclude them.
"""
