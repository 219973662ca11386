"""Sending a simulation's signed station results to a central tally as each station finishes.

``CentralUploader(url)`` is the ``on_station_done`` hook of ``sim.national.runner``: it posts
the station's signed message (``StationResult["signed"]``, signed by the simulated unit with
its seeded key, ``sim.results.results_feed.unit_signer``) to ``URL/api/results`` over one keep-alive
httpx connection and reads the answer the way a unit's outbox does
(``device.store.outbox.classify``: delivered, refused, or pending to retry). A transport error,
429 or 5xx is retried with a short backoff, ``attempts`` times at most; what was not delivered
is counted and named, so the run can say that nothing was lost.
"""
from __future__ import annotations

import threading
from typing import Any

import httpx

from device.store.outbox import RESULTS_PATH, classify


def _answer_code(response) -> str:
    try:
        return str(response.json().get("code") or response.status_code)
    except (ValueError, AttributeError):
        return f"HTTP {response.status_code}"


class CentralUploader:
    def __init__(self, url: str, *, attempts: int = 6, timeout: float = 30.0, client=None):
        self.url = url.rstrip("/") + RESULTS_PATH
        self.attempts, self.timeout = attempts, timeout
        self.client = client or httpx.Client(timeout=timeout)
        self.answers: dict[str, int] = {}  # answer code -> uploads
        self.undelivered: list[dict[str, Any]] = []  # station, state, detail
        self._pause = threading.Event()  # never set: wait() is the backoff delay

    def __call__(self, station_result: dict[str, Any]) -> None:
        signed = station_result.get("signed")
        station = station_result.get("station")
        if signed is None:
            self.undelivered.append({"station": station, "state": "unsigned", "detail": "no signed results"})
            return
        state, detail = "pending", ""
        for attempt in range(self.attempts):
            try:
                response = self.client.post(self.url, json=signed)
            except httpx.HTTPError as exc:
                state, detail = "pending", f"{type(exc).__name__}: {exc}"
            else:
                state, detail = classify(response)
                code = _answer_code(response)
                self.answers[code] = self.answers.get(code, 0) + 1
            if state != "pending":
                break
            self._pause.wait(min(2.0, 0.05 * 2 ** attempt))
        if state != "delivered":
            self.undelivered.append({"station": station, "state": state, "detail": detail})

    @property
    def delivered(self) -> int:
        return sum(n for code, n in self.answers.items() if code in ("accepted", "duplicate"))

    def summary(self) -> dict[str, Any]:
        return {"url": self.url, "answers": dict(sorted(self.answers.items())),
                "delivered": self.delivered, "undelivered": self.undelivered}

    def close(self) -> None:
        self.client.close()
