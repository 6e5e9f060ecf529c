"""Why has this pod no IP? Pure rules over gathered evidence (no I/O, no SDK).

``diagnose(evidence, now=...)`` returns a Diagnosis: ranked causes with stable codes, the numbers that prove
each, the remedy, and the configuration change that would fix it.
"""

from bot.domain.diagnosis.engine import NODE_RULES, SCHEDULING_RULES, diagnose
from bot.domain.diagnosis.model import Cause, CauseCode, Diagnosis, EniConfigSpec, ProposedChange

__all__ = [
    "NODE_RULES",
    "SCHEDULING_RULES",
    "Cause",
    "CauseCode",
    "Diagnosis",
    "EniConfigSpec",
    "ProposedChange",
    "diagnose",
]
