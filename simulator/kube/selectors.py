"""labelSelector and fieldSelector parsing and matching, with the apiserver's grammar and semantics."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass


class SelectorError(ValueError):
    """A selector the apiserver would refuse with 400 BadRequest (the message is the real one)."""


@dataclass(frozen=True)
class LabelRequirement:
    key: str
    operator: str  # "=", "!=", "in", "notin", "exists", "!", "gt", "lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        match self.operator:
            case "exists":
                return present
            case "!":
                return not present
            case "=" | "in":
                return present and value in self.values
            case "!=" | "notin":
                return not present or value not in self.values
            case "gt" | "lt":
                return present and _compare_int(value, int(self.values[0]), self.operator)
        raise AssertionError(self.operator)


def _compare_int(value: str | None, bound: int, operator: str) -> bool:
    try:
        number = int(value or "")
    except ValueError:
        return False
    return number > bound if operator == "gt" else number < bound


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[LabelRequirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(requirement.matches(labels) for requirement in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements


_KEY = r"[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?"
_VALUE = r"[A-Za-z0-9._-]*"
_NOT_EXISTS = re.compile(rf"!\s*(?P<key>{_KEY})")
_SET = re.compile(rf"(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)")
_COMPARE = re.compile(rf"(?P<key>{_KEY})\s*(?P<op>==|=|!=|>|<)\s*(?P<value>{_VALUE})")
_EXISTS = re.compile(rf"(?P<key>{_KEY})")


def parse_label_selector(text: str | None) -> LabelSelector:
    if not text or not text.strip():
        return LabelSelector()
    return LabelSelector(tuple(_parse_label_requirement(part.strip()) for part in _split_outside_parens(text)))


def _split_outside_parens(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _parse_label_requirement(text: str) -> LabelRequirement:
    if match := _NOT_EXISTS.fullmatch(text):
        return LabelRequirement(match["key"], "!")
    if match := _SET.fullmatch(text):
        values = tuple(value.strip() for value in match["values"].split(","))
        if any(not re.fullmatch(_VALUE, value) for value in values):
            raise SelectorError(f"unable to parse requirement: invalid label value in {text!r}")
        return LabelRequirement(match["key"], match["op"], values)
    if match := _COMPARE.fullmatch(text):
        operator = {"==": "=", ">": "gt", "<": "lt"}.get(match["op"], match["op"])
        if operator in ("gt", "lt") and not re.fullmatch(r"-?\d+", match["value"]):
            raise SelectorError(
                f"unable to parse requirement: for 'gt', 'lt' operators, the value must be an integer: {text!r}"
            )
        return LabelRequirement(match["key"], operator, (match["value"],))
    if _EXISTS.fullmatch(text):
        return LabelRequirement(text, "exists")
    raise SelectorError(f"unable to parse requirement: {text!r}")


@dataclass(frozen=True)
class FieldRequirement:
    label: str
    equals: bool  # True for "=" and "==", False for "!="
    value: str

    def matches(self, actual: str) -> bool:
        return (actual == self.value) == self.equals


@dataclass(frozen=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, field_value: Callable[[str], str]) -> bool:
        """field_value(label) -> the object's value for that label, rendered as a string."""
        return all(requirement.matches(field_value(requirement.label)) for requirement in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements

    def equality(self, label: str) -> str | None:
        """The value this selector pins `label` to, if it has an "=" term for it."""
        return next((r.value for r in self.requirements if r.label == label and r.equals), None)

    def renamed(self, labels: Mapping[str, str]) -> FieldSelector:
        """The same selector with labels translated (events.k8s.io names -> core/v1 names)."""
        return FieldSelector(
            tuple(FieldRequirement(labels.get(r.label, r.label), r.equals, r.value) for r in self.requirements)
        )


def parse_field_selector(text: str | None) -> FieldSelector:
    if not text or not text.strip():
        return FieldSelector()
    return FieldSelector(tuple(_parse_field_requirement(term) for term in _split_unescaped(text, ",")))


def _parse_field_requirement(term: str) -> FieldRequirement:
    for operator in ("!=", "==", "="):
        label, found, value = _partition_unescaped(term, operator)
        if found:
            return FieldRequirement(label.strip(), operator != "!=", _unescape(value))
    raise SelectorError(f"invalid selector: '{term}'; can't understand '{term}'")


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _partition_unescaped(text: str, operator: str) -> tuple[str, bool, str]:
    index = 0
    while (index := text.find(operator, index)) >= 0:
        if index == 0 or text[index - 1] != "\\":
            return text[:index], True, text[index + len(operator) :]
        index += 1
    return text, False, ""


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)
