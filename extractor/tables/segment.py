"""Digit-run segmentation: split cells whose digits a scrape ran together, using the identities.

`本年新收政府信息公开申请数量640020470` holds seven cells; of all the ways to cut the digits into
seven numbers, keep those the table's identities accept. A group may open with a minus sign
(`2648-18538` in a row with 本年增/减): the cell it starts is negative. One survivor is the reading; several are
an ambiguity, reported with the candidates and never guessed.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

MAX_PART_DIGITS = 12
MAX_STEPS = 200_000  # search budget: past it the run is reported as too ambiguous to examine
_DECIMAL = re.compile(r"^(?:0|[1-9]\d*)\.\d+$")

Cut = tuple[tuple[int, int], ...]  # (group index, offset) of each part


class _Budget(Exception):
    pass


def _valid(piece: str) -> bool:
    if piece[0] in "+-":  # a sign opens its group: the cell it starts carries it
        piece = piece[1:]
        if not piece or piece.strip("0.") == "":
            return False  # a bare sign, or minus zero
    if "." in piece:
        return bool(_DECIMAL.match(piece))
    return piece == "0" or piece[0] != "0"


def _one_digit_cells(groups: list[str], widths: list[int],
                     accept_row: Callable[[int, list[str]], bool]) -> tuple[list[list[tuple[int, int]]], int]:
    """As many digits as cells (`0000000`, `7000007`): the one cut is a digit per cell."""
    where = [(g, off) for g, s in enumerate(groups) for off in range(len(s))]
    flat = "".join(groups)
    pos = 0
    for row, width in enumerate(widths):
        if not accept_row(row, list(flat[pos:pos + width])):
            return [], row + 1
        pos += width
    return [where], len(widths)


def segmentations(groups: list[str], widths: list[int],
                  accept_row: Callable[[int, list[str]], bool],
                  last_of_row: Callable[[int, list[str]], str | None] | None = None
                  ) -> tuple[list[list[tuple[int, int]]], int]:
    """All cuts of `groups` (digit strings, each holding one or more whole cells) into rows of
    `widths` cells that `accept_row(row index, cells)` takes, each cut as (group, offset) pairs.

    Row by row: the cuts of one row from a position are found once (memoised) and checked against
    the row's identity as soon as they are complete. Returns (cuts, steps), steps -1 when the
    search budget ran out. `last_of_row`, where a row's last cell is determined by the others (a
    total), names that cell so that only it is tried.
    """
    total = sum(widths)
    digits = sum(len(g) for g in groups)
    if digits < total or len(groups) > total:
        return [], 0
    if digits == total and "." not in "".join(groups) and "-" not in "".join(groups) and "+" not in "".join(groups):
        return _one_digit_cells(groups, widths, accept_row)
    digits_after = [sum(len(x) for x in groups[g + 1:]) for g in range(len(groups))]
    plain_groups = [g.isascii() and g.isdigit() for g in groups]
    steps = 0

    def row_cuts(g: int, off: int, row: int) -> list[tuple[Cut, int, int]]:
        """Cuts of row `row` starting at (g, off) that its identity accepts: (cut, next g, next off)."""
        out: list[tuple[Cut, int, int]] = []
        parts: list[str] = []
        where: list[tuple[int, int]] = []
        width = widths[row]
        placed_before = sum(widths[:row])

        def rec(g: int, off: int) -> None:
            nonlocal steps
            steps += 1
            if steps > MAX_STEPS:
                raise _Budget
            n = len(parts)
            if n == width:
                if accept_row(row, parts):
                    out.append((tuple(where), g, off))
                return
            if g == len(groups):
                return
            s = groups[g]
            rest = total - (placed_before + n)  # parts still to place, this one included
            later_groups = len(groups) - g - 1
            lengths = range(1, min(MAX_PART_DIGITS, len(s) - off) + 1)
            if last_of_row is not None and n == width - 1:
                expected = last_of_row(row, parts)
                if expected is not None:
                    if not s.startswith(expected, off):
                        return
                    lengths = (len(expected),)
            plain = plain_groups[g]
            for length in lengths:
                piece = s[off:off + length]
                if plain:  # digits only: a piece is a number unless a longer one opens with 0
                    if length > 1 and piece[0] == "0":
                        break
                else:
                    digits = piece[1:] if piece[0] in "+-" else piece
                    if digits and digits[0] == "0" and len(digits) > 1 and digits[1] != ".":
                        break  # a longer piece starting with 0 is no number either
                    if piece[-1] == "." or not _valid(piece):
                        continue
                ends_group = off + length == len(s)
                left_after = rest - 1
                chars_after = len(s) - off - length + digits_after[g]
                if chars_after < left_after:
                    break  # too few digits left for the cells still to place; longer pieces leave fewer
                if chars_after > left_after * (MAX_PART_DIGITS + 2):
                    continue  # too many left even if every later cell were as long as a cell can be
                if ends_group:
                    if left_after < later_groups or left_after > digits_after[g]:
                        continue
                elif left_after - later_groups < 1:
                    continue
                parts.append(piece)
                where.append((g, off))
                rec(g + 1, 0) if ends_group else rec(g, off + length)
                parts.pop()
                where.pop()

        rec(g, off)
        return out

    @lru_cache(maxsize=None)
    def complete(g: int, off: int, row: int) -> tuple[Cut, ...]:
        if row == len(widths):
            return ((),) if g == len(groups) else ()
        found = []
        for cut, ng, noff in row_cuts(g, off, row):
            for rest in complete(ng, noff, row + 1):
                found.append(cut + rest)
        return tuple(found)

    try:
        cuts = complete(0, 0, 0)
    except _Budget:
        return [], -1
    return [list(c) for c in cuts], steps
