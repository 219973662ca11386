"""The firmware of a polling-station unit, grouped by subsystem.

- ``device.election`` — the election definition and its hash, bundled elections, the voter roll,
  identity documents (MRZ, barcode) and voter pseudonyms;
- ``device.ballots`` — ballot layout, rendering, the OpenCV interpreter and what a ballot says;
- ``device.station`` — the state machine (declared as data), the controller, the event catalog
  and the printed slips;
- ``device.store`` — the hash-chained journal and cast vote records (memory and SQLite),
  canonical JSON, signing;
- ``device.results`` — tally, seat allocation, the unit export and its NIST files;
- ``device.audit`` — the auditor's verify and replay of an export;
- ``device.cli`` — the ``ballotbox`` command and its command groups.

Dependency direction: ``device -> hardware``; ``device`` never imports ``sim``.
"""
