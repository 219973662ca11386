"""Paper ballots: layout, rendering, the interpreter, and what a reading or a cast vote record says."""
