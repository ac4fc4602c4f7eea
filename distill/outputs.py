"""Output folders: an existing one is replaced only with --overwrite, and only when python -m distill wrote it."""

import os

MARKER = ".hpd-distill"  # written into every output folder; --overwrite replaces only folders that hold it


def check_output(path, flag, overwrite):
    """ValueError unless `path` is absent, an empty folder, or (with --overwrite) a folder this tool wrote."""
    if os.path.islink(path):
        raise ValueError(f"{flag} {path} is a symbolic link; name a real folder")
    if not os.path.exists(path):
        return
    if not os.path.isdir(path):
        raise ValueError(f"{flag} {path} exists and is not a folder")
    if not os.listdir(path):
        return
    if not overwrite:
        raise ValueError(f"{flag} {path} exists and is not empty; pass --overwrite to replace it")
    if not os.path.isfile(os.path.join(path, MARKER)):
        raise ValueError(
            f"{flag} {path} was not written by python -m distill (no {MARKER} file); --overwrite replaces only such folders"
        )


def mark(folder):
    with open(os.path.join(folder, MARKER), "w", encoding="utf-8") as f:
        f.write('{"writtenBy": "python -m distill"}\n')
