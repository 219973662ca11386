"""The `ballotbox` command: the top-level parser and one module per command group."""
