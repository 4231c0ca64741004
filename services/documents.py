"""What a CV file really is, decided by its bytes, never by its name or the sender's content type.

Accepted: PDF (`%PDF-`), Word 97-2003 DOC (an OLE2 compound file holding a `WordDocument` stream)
and DOCX (a ZIP holding `word/document.xml`). Refused with a reason a user can act on: empty
files, files over the size limit, executables (Windows PE, ELF, Mach-O, scripts with a shebang,
OLE installers) and anything else. Example::

    kind = sniff(b"%PDF-1.7 ...", limit=10 * 1024 * 1024)   # CvKind("pdf", "application/pdf", ".pdf")
    sniff(b"MZ\\x90\\x00...")                                 # raises Refused("... a Windows program ...")
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import olefile

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# Leading bytes of programs a mail attachment or an upload may carry, with what to call them.
EXECUTABLES = (
    (b"MZ", "a Windows program (.exe/.dll)"),
    (b"\x7fELF", "a Linux program (ELF)"),
    (b"\xfe\xed\xfa\xce", "a macOS program (Mach-O)"), (b"\xfe\xed\xfa\xcf", "a macOS program (Mach-O)"),
    (b"\xce\xfa\xed\xfe", "a macOS program (Mach-O)"), (b"\xcf\xfa\xed\xfe", "a macOS program (Mach-O)"),
    (b"\xca\xfe\xba\xbe", "a macOS program (universal binary)"),
    (b"#!", "a script"),
)


class Refused(ValueError):
    """The file is not accepted as a CV; `str(exc)` says why, in words for the user."""


@dataclass(frozen=True)
class CvKind:
    key: str            # pdf | doc | docx
    content_type: str
    extension: str


PDF = CvKind("pdf", "application/pdf", ".pdf")
DOC = CvKind("doc", "application/msword", ".doc")
DOCX = CvKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx")


def describe_size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def sniff(content: bytes, *, limit: int) -> CvKind:
    """The CV kind of `content`, or Refused with the reason (size first: it is the cheapest check)."""
    if not content:
        raise Refused("the file is empty")
    if len(content) > limit:
        raise Refused(f"the file is {describe_size(len(content))}; the limit for a CV is {describe_size(limit)}")
    head = content[:8]
    for magic, what in EXECUTABLES:
        if head.startswith(magic):
            raise Refused(f"the file is {what}, not a CV: executables are never accepted")
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(OLE_MAGIC):
        return _ole(content)
    if head.startswith(ZIP_MAGIC):
        return _zip(content)
    raise Refused("the file is not a PDF, DOC or DOCX document (judged by its content, not its name)")


def _ole(content: bytes) -> CvKind:
    """An OLE2 compound file is a Word DOC only with a WordDocument stream (Excel sheets and .msi
    installers share the same container)."""
    try:
        ole = olefile.OleFileIO(io.BytesIO(content))
    except OSError as exc:
        raise Refused("the file looks like an Office document but is damaged") from exc
    try:
        if ole.exists("WordDocument"):
            return DOC
    finally:
        ole.close()
    raise Refused("the file is an Office document but not a Word document (PDF, DOC or DOCX only)")


def _zip(content: bytes) -> CvKind:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise Refused("the file looks like a DOCX document but is damaged") from exc
    if "word/document.xml" in names and "[Content_Types].xml" in names:
        return DOCX
    raise Refused("the file is a ZIP archive, not a Word document (PDF, DOC or DOCX only)")


def safe_filename(name: str | None, kind: CvKind, fallback: str = "cv") -> str:
    """A file name to store and send to the CRM: the sender's base name without path parts or
    control characters, with the extension of what the file really is."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip(" .")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem[:120] or fallback
    return stem + kind.extension
