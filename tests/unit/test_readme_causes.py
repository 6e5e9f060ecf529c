"""The README's cause-code table lists every stable code, so a new code cannot ship undocumented."""

from pathlib import Path

from bot.domain.diagnosis.model import CauseCode


def test_every_cause_code_is_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [code.value for code in CauseCode if f"`{code.value}`" not in readme]
    assert missing == []


def test_every_cause_code_has_a_meaning() -> None:
    from bot.domain.diagnosis.catalogue import MEANING

    assert set(MEANING) == set(CauseCode)
