"""JSON for the PostgreSQL test routes, shared by the Spin 3 and Spin 4 Python guests.

A parameter is `[case, value]` in the interface's case names (`int32`, `range-int64`,
`db-null`, ...): binary as hex, JSONB as JSON text, dates and times as lists, a range as
`[lower, upper]` with each bound `[value, inclusive]` or null, an interval as
`[micros, days, months]`. Values come back the same way; columns as `[name, type]`.
"""

import dataclasses
import enum
import re


def kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def camel(case: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in case.split("-"))


def param(t, p):
    """`[case, value]` as a `parameter-value` of the interface module `t`."""
    case, value = p[0], (p[1] if len(p) > 1 else None)
    if case in ("null", "db-null"):
        return t.ParameterValue_DbNull()
    if case == "binary":
        value = bytes.fromhex(value)
    elif case == "jsonb":
        value = value.encode()
    elif case in ("date", "time", "datetime"):
        value = tuple(value)
    elif case.startswith("range-"):
        kinds = (t.RangeBoundKind.EXCLUSIVE, t.RangeBoundKind.INCLUSIVE)
        value = tuple(None if b is None else (b[0], kinds[bool(b[1])]) for b in value)
    elif case == "interval":
        value = t.Interval(*value)
    return getattr(t, "ParameterValue_" + camel(case))(value)


def plain(x):
    if isinstance(x, bytes):
        return x.hex()
    if isinstance(x, enum.Enum):
        return x.name.lower()
    if isinstance(x, (list, tuple)):
        return [plain(i) for i in x]
    if dataclasses.is_dataclass(x):
        return [plain(getattr(x, f.name)) for f in dataclasses.fields(x)]
    return x


def value(v):
    case = kebab(type(v).__name__.split("_", 1)[1])
    if not hasattr(v, "value"):
        return [case]
    if case == "jsonb":
        return [case, v.value.decode()]
    return [case, plain(v.value)]


def data_type(dt) -> str:
    if isinstance(dt, enum.Enum):
        return dt.name.lower()
    case = kebab(type(dt).__name__.split("_", 1)[1])
    return f"{case}:{dt.value}" if hasattr(dt, "value") else case


def rows(columns, rows) -> dict:
    return {
        "columns": [[c.name, data_type(c.data_type)] for c in columns],
        "rows": [[value(v) for v in row] for row in rows],
    }


def error(err, name: str) -> dict:
    """The interface error `err` (its case `name`) with its message, and for a structured
    server error (Spin 4) its SQLSTATE and severity."""
    v = getattr(err, "value", None)
    if hasattr(v, "value"):  # spin:postgres@4's query-error
        v = v.value
    if dataclasses.is_dataclass(v):
        return {"error": name, "code": v.code, "severity": v.severity,
                "message": v.message, "text": v.as_text}
    return {"error": name, "message": v}
