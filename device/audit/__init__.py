"""The auditor's checks of an exported unit: findings, the chain walker, verify and replay."""
