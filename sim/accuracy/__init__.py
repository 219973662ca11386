"""Accuracy campaigns: ballot positions read against what the voters meant."""
