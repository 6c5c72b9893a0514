"""Where the page finds the images it shows: copied into a folder beside it, or embedded in it as data URIs."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from urllib.parse import quote

from ultralytics_neptune.report.runs import IMAGE_TYPES, Upload


def files_folder(out: Path) -> Path:
    """The folder beside the page that holds its images: ``report.html`` -> ``report_files``."""
    return out.with_name(f"{out.stem}_files")


class Assets:
    """Image sources for a page written to ``out``; each image is copied once, named by its content."""

    def __init__(self, out: Path, embed: bool):
        self.folder = files_folder(out)
        self.embed = embed

    def source(self, upload: Upload) -> str | None:
        """The src of an image upload, or None when its bytes cannot be read (the upload's ``missing`` says why)."""
        data = upload.data
        if data is None:
            try:
                data = upload.path.read_bytes()
            except OSError as error:
                upload.missing = f"{upload.path} could not be read ({type(error).__name__})"
                return None
        ext = upload.ext.lower()
        if self.embed:
            return f"data:{IMAGE_TYPES[ext]};base64,{base64.b64encode(data).decode()}"
        target = self.folder / f"{hashlib.sha256(data).hexdigest()[:24]}.{ext}"
        if not target.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return quote(f"{self.folder.name}/{target.name}")
