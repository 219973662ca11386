"""Risk-limiting audits of the paper, with each polling station's box as a batch.

- ``results``: the reported per-station results (central tally's public folder, or a national
  simulation's output);
- ``assertions``: linear assertions implying the outcome: winners over losers (plurality,
  majority with runoff, as Arlo), and D'Hondt / Sainte-Laguë seats per district (Stark and
  Teague 2014; Blom et al. 2021);
- ``macro``: MACRO batch comparison (Stark 2009) as VotingWorks' Arlo computes it: error
  bounds, sample sizes, the measured risk;
- ``sampling``: PPEB draws (Aslam, Popa, Rivest 2008) from a public seed with the SHA-256
  generator of ``cryptorandom``;
- ``csv_files``: Arlo's ballot manifest and batch tallies, the board's sample list and hand
  counts;
- ``audit``: the rounds, kept in an audit folder; ``report``: HTML page + JSON twin.

The command is ``ballotbox audit rla`` (``device/cli/rla.py``); the procedure for an audit board
is ``docs/rla.md``.
"""
