"""Results: tally, seat allocation, the unit export and its NIST SP 1500 files."""
