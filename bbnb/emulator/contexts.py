"""Contexts: persisted browser profiles (cookies, local storage) that sessions reuse.

A context is a record plus a folder holding the part of a Chromium profile worth
keeping.  A session created with ``browserSettings.context.id`` starts from a copy of
that folder; with ``persist: true`` its profile is copied back when it ends.  With a
``folder`` (the emulator's ``--db`` file plus ``.contexts``) contexts survive restarts;
without one they live in a temp folder removed on ``close()``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bbnb.emulator.wire import ApiError, echo, iso, stable_uuid

__all__ = ["ContextRecord", "ContextStore"]

# Profile parts that are caches or belong to one running browser.
_SKIP = shutil.ignore_patterns(
    "Cache",
    "Code Cache",
    "GPUCache",
    "GrShaderCache",
    "ShaderCache",
    "DawnGraphiteCache",
    "DawnWebGPUCache",
    "Crashpad",
    "component_crx_cache",
    "optimization_guide*",
    "Singleton*",
    "DevToolsActivePort",
    "BrowserMetrics*",
)
_INDEX = "contexts.json"
# Fields a client sees on create/update (Browserbase's upload scheme, kept for compatibility).
_UPLOAD_FIELDS = {
    "uploadUrl": "https://upload.emulator.invalid/contexts-are-saved-by-sessions",
    "publicKey": "emulator-has-no-context-upload-key",
    "cipherAlgorithm": "AES-256-CBC",
    "initializationVectorSize": 16,
}


@dataclass(eq=False)
class ContextRecord:
    context_id: str
    created: float
    updated: float
    name: str | None = None
    saved: bool = False


class ContextStore:
    """Contexts by id, their profiles in one folder."""

    def __init__(self, seed: int, folder: Path | None = None) -> None:
        self.seed = seed
        self.by_id: dict[str, ContextRecord] = {}
        self._seq = 0
        self._root = folder
        self._keep = folder is not None
        if folder is not None and (folder / _INDEX).is_file():
            data = json.loads((folder / _INDEX).read_text())
            self._seq = int(data.get("seq", 0))
            for row in data.get("contexts", []):
                record = ContextRecord(**row)
                self.by_id[record.context_id] = record

    @property
    def root(self) -> Path:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="bbnb-contexts-"))
        self._root.mkdir(parents=True, exist_ok=True)
        return self._root

    def _write_index(self) -> None:
        if not self._keep:
            return
        rows = [dataclasses.asdict(record) for record in self.by_id.values()]
        staging = self.root / f".{_INDEX}.new"
        staging.write_text(json.dumps({"seq": self._seq, "contexts": rows}))
        staging.replace(self.root / _INDEX)

    def create(self, now: float, name: str | None) -> ContextRecord:
        if name is not None:
            name = name.strip()
            taken = {c.name.lower() for c in self.by_id.values() if c.name}
            if name.lower() in taken:
                raise ApiError(409, f"A context named {echo(name)} already exists")
        self._seq += 1
        record = ContextRecord(stable_uuid(self.seed, "context", self._seq), now, now, name)
        self.by_id[record.context_id] = record
        self._write_index()
        return record

    def get(self, context_id: str) -> ContextRecord:
        record = self.by_id.get(context_id)
        if record is None:
            raise ApiError(404, f"Context {echo(context_id)} not found")
        return record

    def delete(self, context_id: str) -> None:
        self.get(context_id)
        del self.by_id[context_id]
        if self._root is not None:  # no folder yet: nothing was ever saved
            shutil.rmtree(self._root / context_id, ignore_errors=True)
        self._write_index()

    def profile(self, context_id: str) -> Path | None:
        """The saved profile to start a session from, or ``None`` if nothing was saved yet."""
        record = self.by_id.get(context_id)
        if record is None or not record.saved:
            return None
        return self.root / context_id

    def save(self, context_id: str, profile: Path, now: float) -> None:
        """Keep ``profile`` (a stopped browser's user-data-dir) as the context's state."""
        record = self.by_id.get(context_id)
        if record is None or not profile.is_dir():
            return
        target = self.root / context_id
        staging = self.root / f".{context_id}.new"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(profile, staging, ignore=_SKIP, symlinks=True)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        record.saved = True
        record.updated = now
        self._write_index()

    def wire(self, record: ContextRecord, project_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": record.context_id,
            "createdAt": iso(record.created),
            "updatedAt": iso(record.updated),
            "projectId": project_id,
        }
        if record.name is not None:
            out["name"] = record.name
        return out

    def upload_wire(self, record: ContextRecord) -> dict[str, Any]:
        return {"id": record.context_id, **_UPLOAD_FIELDS}

    def touch(self, record: ContextRecord, now: float) -> None:
        record.updated = now
        self._write_index()

    def close(self) -> None:
        """Remove a temporary folder (a kept one stays for the next start)."""
        if self._root is not None and not self._keep:
            shutil.rmtree(self._root, ignore_errors=True)
