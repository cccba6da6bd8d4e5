"""Where the published files come from: GitHub at the pinned commit, or a local copy.

A source answers two questions: which files does the tree hold (path, git blob SHA-1, size),
and what are a file's bytes. :class:`GitHubSource` asks GitHub's git-trees API for the pinned
commit (recursive) and reads files from ``raw.githubusercontent.com``; :class:`LocalSource`
reads a folder laid out like the repository (a mirror, a clone's work tree), which is what
the tests use.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from deepobs.pytorch.baselines.catalog import PINNED_COMMIT, REPOSITORY, BaselineFile

TIMEOUT_S = 30
CHUNK = 1 << 16


class BaselinesUnavailableError(ConnectionError):
    """The published files cannot be reached (offline, GitHub down, rate limit)."""


def blob_sha1(data: bytes) -> str:
    """The git blob SHA-1 of ``data``: SHA-1 of ``b"blob <size>"``, a zero byte, ``data``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class GitHubSource:
    """The repository on GitHub at one commit.

    Args:
        repository: ``owner/name``.
        commit: Full commit SHA-1.
    """

    def __init__(self, repository: str = REPOSITORY, commit: str = PINNED_COMMIT) -> None:
        self.repository, self.commit = repository, commit

    def __str__(self) -> str:
        return f"github.com/{self.repository}@{self.commit[:7]}"

    def list_files(self) -> list[BaselineFile]:
        """The commit's tree, recursively (one API request).

        Raises:
            BaselinesUnavailableError: if GitHub cannot be reached or answers with an error.
        """
        url = f"https://api.github.com/repos/{self.repository}/git/trees/{self.commit}?recursive=1"
        with self._open(url, "list the published baselines") as response:
            tree = json.load(response)
        if tree.get("truncated"):
            raise BaselinesUnavailableError(
                f"GitHub returned a truncated tree for {self}; fetch with --source DIR from a "
                "clone of the repository instead."
            )
        return [
            BaselineFile(e["path"], e["sha"], int(e["size"]))
            for e in tree.get("tree", [])
            if e.get("type") == "blob"
        ]

    def read_chunks(self, file: BaselineFile) -> Iterator[bytes]:
        """The file's bytes in chunks (for a progress bar).

        Raises:
            BaselinesUnavailableError: if the file cannot be downloaded.
        """
        url = (
            f"https://raw.githubusercontent.com/{self.repository}/{self.commit}/"
            + urllib.request.quote(file.path)
        )
        with self._open(url, f"download {file.path}") as response:
            while chunk := response.read(CHUNK):
                yield chunk

    def _open(self, url: str, what: str):
        request = urllib.request.Request(url, headers={"User-Agent": "deepobs"})
        try:
            return urllib.request.urlopen(request, timeout=TIMEOUT_S)
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            reason = getattr(err, "reason", None) or err
            raise BaselinesUnavailableError(
                f"cannot {what} from {url.split('/')[2]} ({reason}); check the network "
                "connection, or pass --source DIR with a local copy of the repository."
            ) from err


class LocalSource:
    """A folder laid out like the repository (e.g. a clone's work tree or a mirror).

    Args:
        root: The folder.
        listing: A tab-separated file ``path, git_blob_sha1, bytes`` (with a header line) to
            use as the tree; default: every file under ``root``, hashed.

    Raises:
        FileNotFoundError: if ``root`` is not a folder.
    """

    def __init__(self, root: str | Path, listing: str | Path | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(
                f"Baselines source {str(root)!r} is not a folder; pass a copy of the "
                f"{REPOSITORY} repository."
            )
        self.listing = Path(listing) if listing is not None else None

    def __str__(self) -> str:
        return str(self.root)

    def list_files(self) -> list[BaselineFile]:
        """The listing file's entries, or every file under ``root`` with its blob SHA-1."""
        if self.listing is not None:
            lines = self.listing.read_text(encoding="utf-8").splitlines()[1:]
            rows = [line.split("\t") for line in lines if line.strip()]
            return [BaselineFile(path, sha, int(size)) for path, sha, size in rows]
        files = sorted(p for p in self.root.rglob("*") if p.is_file() and ".git" not in p.parts)
        return [
            BaselineFile(p.relative_to(self.root).as_posix(), blob_sha1(b), len(b))
            for p, b in ((p, p.read_bytes()) for p in files)
        ]

    def read_chunks(self, file: BaselineFile) -> Iterator[bytes]:
        """The file's bytes in chunks.

        Raises:
            BaselinesUnavailableError: if the file is missing from the copy.
        """
        path = self.root / file.path
        if not path.is_file():
            raise BaselinesUnavailableError(f"{file.path} is missing from {self.root}.")
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
