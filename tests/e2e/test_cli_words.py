"""Issue 14 items 5 and 8: `cnibot ask` as a real process with what a shell can hand it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def cnibot(*args: str | bytes, db: Path) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CNIBOT_", "SLACK_"))}
    env["CNIBOT_DATABASE_URL"] = f"sqlite:///{db}"
    return subprocess.run(
        [sys.executable.encode(), b"-m", b"bot.cli", *(a.encode() if isinstance(a, str) else a for a in args)],
        capture_output=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def history(db: Path) -> list[dict[str, object]]:
    out = cnibot("ask", "--json", "history --limit 10", db=db)
    assert out.returncode == 0, out.stderr
    rows: list[dict[str, object]] = json.loads(out.stdout)["commands"]
    return rows


def test_undecodable_bytes_get_an_answer_and_a_history_row(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    out = cnibot("ask", b"capacity\xff", db=db)
    assert out.returncode == 2, out.stderr
    assert b"Traceback" not in out.stderr + out.stdout and b"history write lost" not in out.stderr
    assert b"U+DCFF" in out.stdout
    texts = [row["text"] for row in history(db)]
    assert "capacity\\xff" in texts  # the byte, shown safely


def test_several_argv_words_reach_the_parser_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    backslash = cnibot("ask", "change", "a\\b", db=db)
    assert backslash.returncode == 2 and b"`a\\b` is not a change id" in backslash.stdout, backslash.stdout
    tab = cnibot("ask", "change", "1\t2", db=db)
    assert tab.returncode == 2 and b"`1\t2` is not a change id" in tab.stdout, tab.stdout
    assert b"unknown arguments" not in tab.stdout
    # The history shows the words as a shell would quote them back.
    texts = [row["text"] for row in history(db)]
    assert "change 'a\\b'" in texts and "change '1\t2'" in texts
