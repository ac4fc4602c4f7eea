"""Paths named inside a checkpoint (modules.json) come from whoever made it: they may only point inside its folder,
by the rule src/bundle/path.ts applies on the TypeScript side."""

import os
import re
import urllib.parse


def unsafe_path_reason(path, allow_empty=False):
    """Why `path` is not a plain relative path inside its folder, or None when it is one."""
    if not isinstance(path, str):
        return "it is not a string"
    if path == "":
        return None if allow_empty else "it is empty"
    if len(path) > 1024:
        return "it is longer than 1024 characters"
    if re.search(r"[\x00-\x1f\x7f]", path):
        return "it contains control characters"
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", path):
        return "it has a scheme (only relative paths are allowed)"
    if path.startswith(("/", "\\")):
        return "it is absolute (only relative paths are allowed)"
    if re.search(r"[\\?#]", path):
        return "it contains \\, ? or #"
    for seg in path.split("/"):
        decoded = urllib.parse.unquote(seg)
        if decoded in (".", ".."):
            return 'it has a "." or ".." segment'
        if "/" in decoded or "\\" in decoded:
            return "it has an escaped separator"
    return None


def inside(folder, path, what, allow_empty=False):
    """folder/path, or ValueError naming `what` when path is unsafe or leads (through a symlink) out of folder."""
    reason = unsafe_path_reason(path, allow_empty)
    if reason:
        raise ValueError(f"{what}: path {path!r} is refused: {reason}")
    full = os.path.join(folder, path) if path else folder
    root = os.path.realpath(folder)
    real = os.path.realpath(full)
    if real != root and not real.startswith(root + os.sep):
        raise ValueError(f"{what}: path {path!r} leads outside {folder} (through a symbolic link)")
    return full
