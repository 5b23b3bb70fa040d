"""Rules with no model behind them: the mock eligibility check, crisis detection, scope, personal-data masking.

Pure functions over data files; they may use :mod:`knowledge.korean` and :mod:`knowledge.domain`.
"""

__all__ = [
    "crisis",
    "crisis_cues",
    "eligibility",
    "privacy",
    "scope",
]
