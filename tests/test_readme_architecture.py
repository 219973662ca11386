"""The README's architecture section shows the real tree: every folder of a top-level package it
names exists, and every such folder that exists is named (so the picture cannot rot).

Folders that must be named: the top-level packages (folders with ``__init__.py`` at the root),
every folder directly inside one of them, and every Python package deeper down; ``__pycache__``
and test snapshot folders aside."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORED = {"__pycache__", "__snapshots__"}


def architecture_section(readme: str) -> str:
    start = readme.index("\n## Architecture\n")
    end = readme.find("\n## ", start + 1)
    return readme[start:] if end == -1 else readme[start:end]


def named_folders(section: str) -> set[str]:
    """Every ``folder/`` written in backquotes (a trailing slash says it is a folder)."""
    return {m.rstrip("/") for m in re.findall(r"`([A-Za-z_][\w./-]*/)`", section)}


def package_roots(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def folders_to_name(root: Path) -> set[str]:
    out = set()
    for top in package_roots(root):
        out.add(top.name)
        for folder in top.rglob("*"):
            if not folder.is_dir() or IGNORED & set(folder.relative_to(root).parts):
                continue
            if folder.parent == top or (folder / "__init__.py").exists():
                out.add(folder.relative_to(root).as_posix())
    return out


def test_every_folder_named_exists_and_every_folder_is_named():
    named = named_folders(architecture_section((ROOT / "README.md").read_text(encoding="utf-8")))
    missing = sorted(f for f in named if not (ROOT / f).is_dir())
    assert missing == [], f"the README's architecture names folders that do not exist: {missing}"
    unnamed = sorted(folders_to_name(ROOT) - named)
    assert unnamed == [], f"folders the README's architecture does not name: {unnamed}"


def test_the_check_sees_a_new_folder_and_a_stale_name(tmp_path):
    (tmp_path / "device" / "results").mkdir(parents=True)
    (tmp_path / "device" / "__init__.py").write_text("")
    (tmp_path / "device" / "new" / "deep").mkdir(parents=True)
    (tmp_path / "device" / "new" / "deep" / "__init__.py").write_text("")
    (tmp_path / "docs").mkdir()  # not a package: not required
    assert folders_to_name(tmp_path) == {"device", "device/results", "device/new", "device/new/deep"}
    section = architecture_section("# x\n\n## Architecture\n- `device/` and `device/gone/`, `docs/secrecy.md`\n## Next\n`sim/`")
    assert named_folders(section) == {"device", "device/gone"}
