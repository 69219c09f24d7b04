"""Strict JSON: every JSON document the tool prints or writes parses with a strict parser.

Python's ``json`` writes a float that is not finite as the bare words ``NaN``,
``Infinity`` and ``-Infinity``, which are not JSON (RFC 8259) and which strict parsers
(JavaScript's ``JSON.parse``, ``jq``, Go, Rust's serde) reject. The tool writes them
instead, everywhere, by one rule:

* an infinite number as the string ``"inf"`` or ``"-inf"`` (``float("-inf")`` reads it
  back; a NegMAS reserved value of ``-inf`` keeps its meaning);
* a NaN (a number that is not defined, such as 0/0) as ``null``.

NumPy scalars are written as the Python numbers they hold. :func:`dumps` applies the
rule and then writes with ``allow_nan=False``, so a value the rule missed is an error,
never a bare ``NaN`` in a file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

POSITIVE_INFINITY = "inf"
NEGATIVE_INFINITY = "-inf"


def finite_json(value: Any) -> Any:
    """``value`` with every non-finite float replaced by the rule above (mappings, lists
    and tuples are walked; tuples become lists; other values are returned as they are)."""
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, np.generic):
        return finite_json(value.item())
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return POSITIVE_INFINITY if value > 0 else NEGATIVE_INFINITY
        return value
    if isinstance(value, Mapping):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    return value


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps`` of ``finite_json(value)``, with ``allow_nan=False``."""
    return json.dumps(finite_json(value), allow_nan=False, **options)
