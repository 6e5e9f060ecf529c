from __future__ import annotations

import pytest

from simulator.kube.selectors import SelectorError, parse_field_selector, parse_label_selector

LABELS = {"app": "web", "tier": "frontend", "release": "7"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app=api", False),
        ("app!=api", True),
        ("missing!=x", True),
        ("app in (web, api)", True),
        ("app in (api,db)", False),
        ("app notin (api,db)", True),
        ("missing notin (a)", True),
        ("tier", True),
        ("missing", False),
        ("!missing", True),
        ("!app", False),
        ("app=web,tier in (frontend),!canary", True),
        ("app=web,tier=backend", False),
        ("release>5", True),
        ("release<5", False),
        ("app=", False),
    ],
)
def test_label_selector_matches_like_the_apiserver(selector: str, expected: bool) -> None:
    assert parse_label_selector(selector).matches(LABELS) is expected


def test_label_selector_with_no_labels_only_matches_absence() -> None:
    assert parse_label_selector("!app").matches(None)
    assert not parse_label_selector("app").matches(None)


@pytest.mark.parametrize("selector", ["app web", "app in web", "=web", "release>high"])
def test_label_selector_rejects_bad_syntax(selector: str) -> None:
    with pytest.raises(SelectorError, match="unable to parse requirement"):
        parse_label_selector(selector)


def test_field_selector_terms_are_anded() -> None:
    selector = parse_field_selector("involvedObject.name=web-1,involvedObject.namespace=default,involvedObject.uid=u-1")
    values = {"involvedObject.name": "web-1", "involvedObject.namespace": "default", "involvedObject.uid": "u-1"}
    assert selector.matches(values.__getitem__)
    assert not selector.matches({**values, "involvedObject.uid": "u-2"}.__getitem__)


def test_field_selector_operators_and_pinned_values() -> None:
    selector = parse_field_selector("spec.nodeName==node-a,status.phase!=Succeeded")
    assert selector.equality("spec.nodeName") == "node-a"
    assert selector.equality("status.phase") is None
    assert selector.matches({"spec.nodeName": "node-a", "status.phase": "Running"}.__getitem__)
    assert not selector.matches({"spec.nodeName": "node-a", "status.phase": "Succeeded"}.__getitem__)


def test_field_selector_empty_value_selects_unset_fields() -> None:
    selector = parse_field_selector("spec.nodeName=")
    assert selector.matches({"spec.nodeName": ""}.__getitem__)
    assert not selector.matches({"spec.nodeName": "node-a"}.__getitem__)


def test_field_selector_unescapes_values() -> None:
    assert parse_field_selector(r"reason=a\,b").requirements[0].value == "a,b"


def test_field_selector_without_operator_is_refused() -> None:
    with pytest.raises(SelectorError, match="invalid selector: 'spec.nodeName'"):
        parse_field_selector("spec.nodeName")
