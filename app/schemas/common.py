"""Types shared by every feature's schemas."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]

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
