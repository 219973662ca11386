"""Audit drills: risk-limiting audits of simulated elections with planted miscounts."""
