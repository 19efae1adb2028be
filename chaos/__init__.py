"""chaos — faults, the timeline that schedules them, injectors that apply them (the nemesis).

See docs/chaos.md for users and docs/architecture.md for the interfaces other parts call.
"""

from chaos.schedule import ScheduledFault, expand, to_campaign
from chaos.spec import ChaosSpec
from chaos.validation import validate

__all__ = ["ChaosSpec", "ScheduledFault", "expand", "to_campaign", "validate"]
