"""JSON on the hot path: webhook payloads, the inbox, the outbox's column, log lines.

orjson parses and writes several times faster than the standard library; what it refuses and
the standard library accepts (an integer beyond 64 bits, NaN) is read by the standard library,
so no payload is accepted or refused differently than before.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["dumps", "loads"]


def loads(data: bytes | str) -> Any:
    """The JSON value of `data` (ValueError when it is not JSON, as `json.loads`)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def dumps(value: Any) -> str:
    """`value` as JSON text (UTF-8 kept as is; dict keys that are not strings become strings)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # what orjson does not write (an integer beyond 64 bits): as the standard library does
        return json.dumps(value, ensure_ascii=False)
