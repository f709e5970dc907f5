"""Files that hold customer data (audit log, sandbox database) are private to the user running the server.

The audit log keeps contacts' names and emails; the sandbox keeps whole sequences. Folders this
creates are 0700 and files are 0600, whatever the umask, so other accounts on the machine cannot
read them. A folder that already exists is left as it is: it may be shared on purpose.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create the folder (and missing parents) readable by the owner only."""
    folder = Path(path)
    missing = [parent for parent in (folder, *folder.parents) if not parent.exists()]
    folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    for created in missing:  # mkdir's mode is masked by the umask, and parents get the default
        created.chmod(PRIVATE_DIR)
    return folder


def private_file(path: str | os.PathLike[str]) -> Path:
    """Make sure the file exists, owner-only, in a private folder (an existing file is tightened too)."""
    file = Path(path)
    private_dir(file.parent)
    os.close(os.open(file, os.O_CREAT | os.O_WRONLY | os.O_APPEND, PRIVATE_FILE))
    file.chmod(PRIVATE_FILE)
    return file
