"""Replaying the planned orders of the demo history through the order services, in time order,
as users would have raised and worked them: each step with ``at=`` so numbers follow the
calendar and transitions are backdated."""

from __future__ import annotations

import heapq
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.audit.service import Actor
from maintenance.demo.orders.jobs import Job, Step
from maintenance.orders import service
from maintenance.orders.choices import ChecklistResult
from maintenance.orders.models import ChecklistItem, FailureReportUpdate


def replay(session: Session, jobs: list[Job], *, cutoff: datetime, manager: Actor) -> None:
    """Create the orders and take their steps in time order, up to ``cutoff`` (the start of today:
    what comes later has not happened yet). ``manager`` approves what an engineer may not."""
    queue: list[tuple[datetime, int, int, Job]] = []
    sequence = 0
    for job in jobs:
        if job.requested_at < cutoff:
            queue.append((job.requested_at, sequence, -1, job))
            sequence += 1
    heapq.heapify(queue)
    while queue:
        _at, _seq, index, job = heapq.heappop(queue)
        if index < 0:
            _create(session, job)
        else:
            child = _take(session, job, job.steps[index], manager)
            if child is not None and child.steps and child.steps[0].at < cutoff:
                heapq.heappush(queue, (child.steps[0].at, sequence, 0, child))
                sequence += 1
        following = index + 1
        if following < len(job.steps) and job.steps[following].at < cutoff:
            heapq.heappush(queue, (job.steps[following].at, sequence, following, job))
            sequence += 1


def _create(session: Session, job: Job) -> None:
    order = service.create_order(
        session, job.data, actor=job.requested_by, at=job.requested_at, pm_plan=job.plan, plan_due_date=job.due
    )
    job.order = order
    if job.checks:
        service.add_checks(session, order, job.checks, actor=job.requested_by)
    if job.lines:
        lines = [line.create() for line in job.lines]
        service.add_cost_lines(session, order, lines, actor=job.worker, at=job.requested_at)


def _take(session: Session, job: Job, step: Step, manager: Actor) -> Job | None:
    order = job.order
    assert order is not None
    child = None
    if step.action == "complete" and job.results and not job.checked:
        items = session.scalars(
            select(ChecklistItem).where(col(ChecklistItem.order_id) == order.id).order_by(col(ChecklistItem.position))
        ).all()
        for item, (result, value, note) in zip(items, job.results, strict=True):
            service.record_check(session, order, item, result=result, value=value, note=note, actor=job.worker)
            if result == ChecklistResult.NOT_OK and job.raises is not None and child is None:
                raised = service.raise_order_from_check(
                    session, order, item, actor=job.worker, at=job.raises.requested_at
                )
                job.raises.order = raised
                child = job.raises
        job.checked = True
    actor = step.actor
    if (
        step.action == "approve"
        and actor is not manager
        and (service.needs_manager_approval(order) or service.is_own_request(actor, order))
    ):
        actor = manager  # above the limit, and for an order its approver raised, the manager approves
    service.perform(session, order, step.action, actor=actor, note=step.note, at=step.at)
    if step.action == "start" and job.failure is not None and order.failure_mode is None:
        service.record_failure(
            session,
            order,
            FailureReportUpdate.model_validate(job.failure | {"version": order.version}),
            actor=job.worker,
        )
    if child is not None and child.order is not None:
        # The service raised it; it gets its cost lines as the other orders get theirs.
        lines = [line.create() for line in child.lines]
        service.add_cost_lines(session, child.order, lines, actor=child.worker, at=child.requested_at)
    return child
