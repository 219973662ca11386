"""The published site's files as HTTP responses, each read whole from one open file.

The publisher replaces a page while it is being served (a new file renamed over the old one,
``central/publish.py``). Starlette's ``StaticFiles`` takes a file's size from ``stat`` and then
opens the path again to send it, so a page replaced between the two went out with the old
length and the new bytes: the server broke the connection, and a reader saw a truncated page.
``SiteFiles`` opens the file once and takes its size, time and bytes from that one open file,
so every answer is one whole version of the page. Pages are small (the largest, the national
NIST report of a whole country, a few MB), so each is read into memory.
"""
from __future__ import annotations

import os

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, PathLike, StaticFiles
from starlette.types import Scope


class SiteFiles(StaticFiles):
    """``StaticFiles`` whose answer is the bytes of the one file it opened."""

    def file_response(self, full_path: PathLike, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        with open(full_path, "rb") as f:
            stat_result = os.fstat(f.fileno())
            body = f.read()
        # FileResponse only for its headers (type, length, time, ETag): it is never sent
        headers = FileResponse(full_path, status_code=status_code, stat_result=stat_result).headers
        if self.is_not_modified(headers, Headers(scope=scope)):
            return NotModifiedResponse(headers)
        return Response(body, status_code=status_code, headers=dict(headers))
