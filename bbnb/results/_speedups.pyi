# Types of the optional C extension built from _speedups.c (see bbnb/results/_native.py).
from typing import Any

def extract(
    values: list[Any], spec: tuple[Any, ...], nleaves: int, root_flag_null: bool, /
) -> (
    tuple[
        tuple[tuple[int, int, bytearray, bytearray, bytearray | None], ...],
        bytearray,
        bytearray,
        bytearray,
    ]
    | None
): ...
