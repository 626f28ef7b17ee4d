"""The README's pictures are what the console draws now: each SVG in docs/screenshots/ is
redrawn from the demo on the frozen clock and must match byte for byte (else: run
`make screenshots` and commit them), and the README shows every one of them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools.screenshots import OUT, PICTURES, ROOT, Picture, path_of, render, stale


@pytest.mark.parametrize("picture", PICTURES, ids=lambda p: p.name)
async def test_the_picture_is_fresh(picture: Picture) -> None:
    committed = path_of(picture).read_text(encoding="utf-8")
    assert committed == await render(picture), (
        f"{path_of(picture).relative_to(ROOT)} is stale: run `make screenshots` and commit it"
    )


async def test_a_stale_picture_is_found(tmp_path: Path) -> None:
    shutil.copytree(OUT, tmp_path, dirs_exist_ok=True)
    edited = path_of(PICTURES[0], tmp_path)
    edited.write_text(edited.read_text(encoding="utf-8").replace("LATE", "LAET", 1))
    path_of(PICTURES[-1], tmp_path).unlink()
    assert await stale(tmp_path) == [edited, path_of(PICTURES[-1], tmp_path)]


def test_the_readme_shows_every_picture() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for picture in PICTURES:
        assert f"docs/screenshots/{picture.name}.svg" in readme, picture.name
    on_disk = {p.stem for p in OUT.glob("*.svg")}
    assert on_disk == {p.name for p in PICTURES}  # no picture left over from an old list
