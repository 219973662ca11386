"""The unit's store: the hash-chained journal and the cast vote records, canonical JSON and signing."""
