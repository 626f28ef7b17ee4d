"""Which holiday countries and subdivisions exist, without importing every country.

`holidays` can only list a country's subdivisions by importing its `countries`
package, which imports all ~280 country modules (~100 ms), after the package
itself (~80 ms): that was a third of the console's start. The answers are kept
in a small file in the user's cache directory, keyed by the installed `holidays`
(its location and modification time), so `holidays` is imported only the first
time a code is checked after it is installed or upgraded. Losing the file costs
one slow start; a file that cannot be read or written is ignored.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path
from typing import Any


def countries() -> frozenset[str]:
    """Every ISO country code `holidays` has a calendar for."""
    memo = _read()
    if "countries" not in memo:
        from holidays import registry

        memo["countries"] = sorted({str(names[1]) for names in registry.COUNTRIES.values()})
        _write(memo)
    return frozenset(memo["countries"])


def subdivisions(country: str) -> tuple[str, ...]:
    """The subdivision codes of `country` (a code `countries()` lists)."""
    memo = _read()
    known = memo.setdefault("subdivisions", {})
    if country not in known:
        import holidays

        known[country] = list(holidays.country_holidays(country).subdivisions)
        _write(memo)
    return tuple(known[country])


def _path() -> Path | None:
    spec = importlib.util.find_spec("holidays")
    if spec is None or spec.origin is None:
        return None
    try:
        stamp = f"{spec.origin}:{os.stat(spec.origin).st_mtime_ns}"
    except OSError:
        return None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    digest = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    return Path(base) / "triage" / f"holiday-codes-{digest}.json"  # i18n: not text


def _read() -> dict[str, Any]:
    path = _path()
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and _well_formed(data) else {}


def _well_formed(data: dict[str, Any]) -> bool:
    codes = data.get("countries", [])
    subs = data.get("subdivisions", {})
    return (isinstance(codes, list) and all(isinstance(c, str) for c in codes)
            and isinstance(subs, dict)
            and all(isinstance(v, list) and all(isinstance(s, str) for s in v)
                    for v in subs.values()))  # fmt: skip


def _write(data: dict[str, Any]) -> None:
    path = _path()
    if path is None:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o600)  # private, like every file triage keeps
            f.write(json.dumps(data))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
