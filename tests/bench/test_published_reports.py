"""Published reports under bench/reports/ link only files that are committed beside them."""

from __future__ import annotations

from pathlib import Path

import pytest

from publish import REPORTS, linked_files, publish


@pytest.mark.parametrize("report", sorted(REPORTS.rglob("*.md")), ids=lambda p: str(p.relative_to(REPORTS)))
def test_every_file_a_published_report_links_is_beside_it(report: Path) -> None:
    assert [f for f in linked_files(report.read_text()) if not (report.parent / f).exists()] == []


def test_publishing_copies_the_report_and_what_it_links(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "report.md").write_text("![steps](batch-steps.png)\n[flame](flame-batch.svg)\n")
    (run / "batch-steps.png").write_bytes(b"png")
    (run / "flame-batch.svg").write_text("<svg/>")
    (run / "collected.json").write_text("{}")  # not linked: not published
    published = publish(run, "one", reports=tmp_path / "reports")
    assert sorted(p.name for p in published.parent.iterdir()) == [
        "batch-steps.png",
        "flame-batch.svg",
        "report.md",
    ]
    (run / "batch-steps.png").unlink()
    with pytest.raises(SystemExit, match=r"batch-steps\.png"):
        publish(run, "two", reports=tmp_path / "reports")
