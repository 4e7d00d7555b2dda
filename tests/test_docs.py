"""The user docs stay inside the repository and in step with the code."""

from __future__ import annotations

import os
import re
from pathlib import Path

from clientpulse import risk_factors
from tooling.config_docs import REFERENCE, render

ROOT = Path(__file__).resolve().parent.parent
_SKIPPED_DIRS = {".git", ".venv", "out", ".airflow", "__pycache__", ".pytest_cache", ".ruff_cache"}
# These two name the API specs folder CI places beside the clone, not docs a user reads.
_MAY_NAME_SPECS = {"tests/conftest.py", ".ci/run"}
_BINARY = {".png", ".duckdb", ".so", ".pyc", ".lock"}
_OUTSIDE_CITATION = re.compile(r"\.\./shared/|\bDOMAIN(\.md)? §")


def _project_files() -> list[Path]:
    files = []
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if d not in _SKIPPED_DIRS]
        files += [Path(folder, n) for n in names if Path(n).suffix not in _BINARY]
    return files


def test_no_project_file_cites_docs_outside_the_repository():
    """A clone carries docs/domain.md, not the product brief folder beside the project."""
    citing = []
    for path in _project_files():
        relative = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if not _OUTSIDE_CITATION.search(line):
                continue
            if relative in _MAY_NAME_SPECS and "DOMAIN" not in line:
                continue
            citing.append(f"{relative}:{number}: {line.strip()[:80]}")
    assert citing == [], "cite docs/domain.md §n instead:\n" + "\n".join(citing)


def test_the_domain_sections_cited_exist():
    """Every `docs/domain.md §n` in the project names a section the page has."""
    sections = set(re.findall(r"^## §(\d+) ", (ROOT / "docs/domain.md").read_text(), re.M))
    cited = set()
    for path in _project_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for citation in re.findall(r"docs/domain\.md (§\d+(?:, §\d+)*)", text):
            cited |= set(re.findall(r"\d+", citation))
    assert cited, "nothing cites docs/domain.md: the pattern above is out of date"
    assert cited <= sections, f"cited sections missing from docs/domain.md: {cited - sections}"


def test_the_configuration_reference_is_generated_from_the_models():
    assert REFERENCE.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is stale: run `python -m tooling.config_docs`"
    )


_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    headings = {_anchor(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}
    return headings | set(re.findall(r'<a id="([^"]+)"></a>', text))  # explicit anchors


def test_the_risk_factor_table_is_generated_from_the_registry():
    text = risk_factors.DOC.read_text(encoding="utf-8")
    assert risk_factors.BEGIN in text
    assert risk_factors.with_table(text) == text, (
        "docs/risk_detection.md is stale: run `python -m clientpulse.risk_factors`"
    )


def test_every_link_between_the_docs_leads_somewhere():
    pages = [ROOT / "README.md", ROOT / "benchmarks" / "README.md", *(ROOT / "docs").glob("*.md")]
    broken = []
    for page in pages:
        for target in _LINK.findall(page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []
