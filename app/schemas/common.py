"""Types shared by every feature's schemas."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


def _same_length(rows: list[list[float]]) -> list[list[float]]:
    if rows:
        width = len(rows[0])
        for i, row in enumerate(rows):
            if len(row) != width:
                raise ValueError(f"every row must have the same length: row 0 has {width} numbers, row {i} has "
                                 f"{len(row)}")
    return rows


def _rows_or_numbers(values: list[float] | list[list[float]]) -> list[float] | list[list[float]]:
    if values and isinstance(values[0], list):
        return _same_length(values)
    return values


# Rows of numbers, every row as long as the first (a ragged list is no array: 422 instead of NumPy's error).
Rows = Annotated[list[list[FiniteFloat]], AfterValidator(_same_length)]
# One number per point, or one row per point (rows of one length).
NumbersOrRows = Annotated[list[FiniteFloat] | list[list[FiniteFloat]], AfterValidator(_rows_or_numbers)]

ArrayJSON = Annotated[
    Any,
    Field(
        description="An array: nested JSON lists by default; with ?encoding=base64 an object "
        "{dtype: 'float32'|'uint8', shape: [...], data: base64 of the little-endian bytes}",
    ),
]

EncodingParam = Literal["json", "base64"]


class EncodedArray(BaseModel):
    dtype: Literal["float32", "uint8"] = Field(description="Element type of `data`")
    shape: list[int] = Field(description="Array shape, row-major")
    data: str = Field(description="Base64 of the little-endian bytes")


class Message(BaseModel):
    detail: str = Field(description="What went wrong and how to fix it")
