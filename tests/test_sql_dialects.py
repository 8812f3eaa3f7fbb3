"""The Unicode tables the SQL dialects are built from, against Python itself.

`whitespace` and `fold_table` skip blocks of characters that a string method
shows hold nothing of interest; here every character is tested alone, so a
block that hid one would show.
"""

from __future__ import annotations

import sys

from tierwise.engine.sql_dialects import MULTI_FOLDS, fold_table, whitespace

EVERY = [chr(code) for code in range(sys.maxunicode + 1)]


def test_whitespace_is_every_character_str_strip_removes() -> None:
    assert whitespace() == "".join(ch for ch in EVERY if ch.isspace())


def test_the_fold_table_holds_every_one_to_one_fold_after_lower() -> None:
    single: dict[str, str] = {}
    for char in EVERY:
        lower, folded = char.lower(), char.casefold()
        if lower != folded and len(lower) == 1 and len(folded) == 1:
            single[lower] = folded
    multi = tuple((char, char.casefold()) for char in MULTI_FOLDS)
    assert fold_table() == ("".join(single), "".join(single.values()), multi)
