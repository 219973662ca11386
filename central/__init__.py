"""The central tally: a separate program that ingests signed station results and publishes them.

- ``central.served``: the election a service serves (from a signed election package): unit keys
  per station, registered voters, live/test mode.
- ``central.checks``: the stateless checks of one upload (shape, signature, registry, election,
  mode, sanity); ``central.decisions``: every decision code, its HTTP status and meaning (data).
- ``central.store``: the storage interface and its SQLite implementation (the decisions journal
  is the unit's hash-chained journal, ``device.store``).
- ``central.ingest``: the single writer that decides slot by slot and commits in groups.
- ``central.tally``: running totals per station, district, province and nation; seats.
- ``central.publish`` and ``central.pages``: versioned static JSON and HTML, regenerated in
  batches; ``central.nist_national``: the national SP 1500-100 file.
- ``central.app``: the Starlette application; ``central.cli``: ``ballotbox central serve``.

It imports ``device`` (the election, the tally rules, the signatures, the journal), never ``sim``.
"""
