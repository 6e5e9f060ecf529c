"""Reading EC2 Query API parameters: flattened lists (`X.1`, `X.2`), filters, tag specifications, paging."""

from __future__ import annotations

import base64
import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from simulator.model import Ec2Error

T = TypeVar("T")


class QueryParams:
    """One request's form parameters."""

    def __init__(self, params: Mapping[str, str]) -> None:
        self.raw = dict(params)

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.raw.get(key, default)

    def require(self, key: str) -> str:
        value = self.raw.get(key)
        if not value:
            raise Ec2Error("MissingParameter", f"The request must contain the parameter {key}")
        return value

    def integer(self, key: str, default: int = 0) -> int:
        value = self.raw.get(key)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise Ec2Error("InvalidParameterValue", f"Value ({value}) for parameter {key} is invalid.") from None

    def boolean(self, key: str) -> bool:
        return self.raw.get(key, "false").lower() == "true"

    def values(self, prefix: str) -> list[str]:
        """`NetworkInterfaceId.1`, `NetworkInterfaceId.2` ... in index order."""
        return [v for _, v in sorted(self._indexed(prefix).items()) if isinstance(v, str)]

    def structs(self, prefix: str) -> list[dict[str, str]]:
        """`Tag.1.Key`, `Tag.1.Value`, ... -> [{"Key": ..., "Value": ...}] in index order."""
        grouped: dict[int, dict[str, str]] = {}
        pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)\.(.+)$")
        for key, value in self.raw.items():
            m = pattern.match(key)
            if m:
                grouped.setdefault(int(m.group(1)), {})[m.group(2)] = value
        return [grouped[i] for i in sorted(grouped)]

    def _indexed(self, prefix: str) -> dict[int, str]:
        found: dict[int, str] = {}
        for key, value in self.raw.items():
            if key.startswith(prefix + "."):
                rest = key[len(prefix) + 1 :]
                if rest.isdigit():
                    found[int(rest)] = value
        return found

    def filters(self) -> list[Filter]:
        out = []
        for item in self.structs("Filter"):
            name = item.get("Name", "")
            values = [v for k, v in sorted(item.items(), key=lambda kv: _value_index(kv[0])) if k.startswith("Value.")]
            out.append(Filter(name, values))
        return out

    def tags(self, prefix: str = "Tag") -> dict[str, str]:
        return {t["Key"]: t.get("Value", "") for t in self.structs(prefix) if "Key" in t}

    def tag_specifications(self, resource_type: str) -> dict[str, str]:
        tags: dict[str, str] = {}
        for spec_index in sorted({int(k.split(".")[1]) for k in self.raw if k.startswith("TagSpecification.")}):
            prefix = f"TagSpecification.{spec_index}"
            if self.raw.get(f"{prefix}.ResourceType", resource_type) == resource_type:
                tags.update(self.tags(f"{prefix}.Tag"))
        return tags


def _value_index(key: str) -> int:
    tail = key.rsplit(".", 1)[-1]
    return int(tail) if tail.isdigit() else 0


@dataclass(frozen=True)
class Filter:
    name: str
    values: list[str]

    @property
    def has_wildcards(self) -> bool:
        return any(("*" in v or "?" in v) for v in self.values)

    def matches(self, candidates: Iterable[str | None]) -> bool:
        """True if any candidate value matches any filter value (EC2 wildcards: * and ?)."""
        for candidate in candidates:
            if candidate is None:
                continue
            for pattern in self.values:
                if pattern == candidate or (
                    ("*" in pattern or "?" in pattern) and fnmatch.fnmatchcase(candidate, pattern)
                ):
                    return True
        return False


def invalid_filter(name: str) -> Ec2Error:
    return Ec2Error("InvalidParameterValue", f"The filter '{name}' is invalid")


@dataclass(frozen=True)
class Page:
    """MaxResults/NextToken for one Describe call; tokens carry the sequence number to resume after."""

    max_results: int | None
    after: int

    @classmethod
    def read(cls, params: QueryParams, *, low: int = 5, high: int = 1000) -> Page:
        max_results = params.get("MaxResults")
        size: int | None = None
        if max_results is not None:
            size = params.integer("MaxResults")
            if size < low or size > high:
                raise Ec2Error(
                    "InvalidParameterValue",
                    f"Value ( {size} ) for parameter maxResults is invalid. "
                    f"Expecting a value between {low} and {high}.",
                )
        return cls(size, decode_token(params.get("NextToken")))

    def cut(self, ordered: list[tuple[int, T]]) -> tuple[list[T], str | None]:
        """ordered: (sequence, item) sorted by sequence. Returns the page and the next token."""
        start = 0
        if self.after:
            lo, hi = 0, len(ordered)
            while lo < hi:  # first sequence greater than `after`
                mid = (lo + hi) // 2
                if ordered[mid][0] <= self.after:
                    lo = mid + 1
                else:
                    hi = mid
            start = lo
        if self.max_results is None:
            return [item for _, item in ordered[start:]], None
        chunk = ordered[start : start + self.max_results]
        more = start + self.max_results < len(ordered)
        token = encode_token(chunk[-1][0]) if more and chunk else None
        return [item for _, item in chunk], token


def encode_token(seq: int) -> str:
    return base64.urlsafe_b64encode(f"sim1:{seq}".encode()).decode()


def decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        marker, seq = text.split(":", 1)
        if marker != "sim1":
            raise ValueError
        return int(seq)
    except (ValueError, UnicodeDecodeError):
        raise Ec2Error("InvalidParameterValue", f"The token '{token}' is invalid.") from None
