"""Reading a user's text file (manifest, stack, var file, saved plan, catalog, pushed state).

Every reader in the project already turns an ``OSError`` into a clear message naming the file; a
file that is not UTF-8 text is one more reason a file cannot be read, so it is raised as an
``OSError`` too (``EILSEQ``, with a ``strerror`` that says so) instead of a ``UnicodeDecodeError``
that would end in a traceback.
"""

from __future__ import annotations

import errno
from pathlib import Path


def read_text(path: str | Path) -> str:
    """The UTF-8 text of ``path`` (newlines as ``Path.read_text`` reads them); OSError when unreadable."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise OSError(errno.EILSEQ, f"not UTF-8 text (byte {err.start})", str(path)) from err
