"""The work-order state machine: which state may follow which, and the action (button) that
moves an order there. The service enforces it; pages show only the allowed buttons.

    draft → approved → scheduled → in_progress → completed → closed
    (approved, scheduled, in_progress) ⇄ on_hold;  draft/approved/scheduled/on_hold → cancelled
    completed → in_progress (reopen, before it is closed)
"""

from __future__ import annotations

from dataclasses import dataclass

from maintenance.i18n import N_
from maintenance.orders.choices import OrderState

S = OrderState


@dataclass(frozen=True)
class Action:
    """A button on the order page: ``name`` is posted, ``label`` is shown (translated at render)."""

    name: str
    target: OrderState
    label: str
    colour: str
    needs_note: bool = False  # a reason must be given (cancel, hold, reopen)


APPROVE = Action("approve", S.APPROVED, N_("Approve"), "success")
SCHEDULE = Action("schedule", S.SCHEDULED, N_("Schedule"), "primary")
START = Action("start", S.IN_PROGRESS, N_("Start work"), "warning")
HOLD = Action("hold", S.ON_HOLD, N_("Put on hold"), "secondary", needs_note=True)
RESUME_APPROVED = Action("resume_approved", S.APPROVED, N_("Resume (approved)"), "secondary")
RESUME_SCHEDULED = Action("resume_scheduled", S.SCHEDULED, N_("Resume (scheduled)"), "secondary")
RESUME_WORK = Action("resume_work", S.IN_PROGRESS, N_("Resume work"), "warning")
COMPLETE = Action("complete", S.COMPLETED, N_("Complete and sign off"), "success")
REOPEN = Action("reopen", S.IN_PROGRESS, N_("Reopen"), "secondary", needs_note=True)
CLOSE = Action("close", S.CLOSED, N_("Close"), "dark")
CANCEL = Action("cancel", S.CANCELLED, N_("Cancel order"), "danger", needs_note=True)

# The allowed moves, each as the action that makes it. Anything not listed is forbidden.
ACTIONS: dict[OrderState, tuple[Action, ...]] = {
    S.DRAFT: (APPROVE, CANCEL),
    S.APPROVED: (SCHEDULE, START, HOLD, CANCEL),
    S.SCHEDULED: (START, HOLD, CANCEL),
    S.IN_PROGRESS: (COMPLETE, HOLD),
    S.ON_HOLD: (RESUME_APPROVED, RESUME_SCHEDULED, RESUME_WORK, CANCEL),
    S.COMPLETED: (CLOSE, REOPEN),
    S.CLOSED: (),
    S.CANCELLED: (),
}

ACTION_BY_NAME = {action.name: action for actions in ACTIONS.values() for action in actions}

# States in which an order's fields, cost lines and checks may still change.
EDITABLE_STATES = frozenset({S.DRAFT, S.APPROVED, S.SCHEDULED, S.IN_PROGRESS, S.ON_HOLD, S.COMPLETED})


def allowed_targets(state: OrderState) -> frozenset[OrderState]:
    return frozenset(action.target for action in ACTIONS[state])


def actions_from(state: OrderState) -> tuple[Action, ...]:
    return ACTIONS[state]
