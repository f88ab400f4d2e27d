"""The product's documentation stands on its own: every path it points to is inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
CODE_PATH = re.compile(r"`((?:\.\./|docs/)[^`\s]+\.md)`")


def referenced_files(doc: Path) -> list[str]:
    text = doc.read_text(encoding="utf-8")
    links = [
        target for target in MARKDOWN_LINK.findall(text) if "://" not in target and not target.startswith("mailto:")
    ]
    return links + CODE_PATH.findall(text)


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.relative_to(ROOT).as_posix())
def test_documents_point_only_to_files_in_the_repository(doc: Path):
    for target in referenced_files(doc):
        base = ROOT if target.startswith("docs/") else doc.parent
        resolved = (base / target).resolve()
        assert resolved.is_relative_to(ROOT), f"{doc.name} points outside the repository: {target}"
        assert resolved.exists(), f"{doc.name} points to a missing file: {target}"


def test_the_readme_leads_to_the_architecture_in_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/architecture.md" in readme
    assert "ARCHITECTURE.md" not in readme
