"""The paper: voters' marks, logical and image ballots, scanner distortions, tape photos."""
