"""Readable summaries of a protocol, for `python -m bot check` and for staff."""

from __future__ import annotations

from bot.core.protocol import (
    AnswerCondition,
    Completed,
    Condition,
    Missed,
    MissedInARow,
    Protocol,
    ReductionBelow,
    ReliefLost,
    Rule,
    Severity,
    Words,
    WorseThanBaseline,
)


def describe_protocol(protocol: Protocol) -> str:
    """The schedule and the alert rules, one line each, grouped by severity."""
    approval = protocol.approved_by or "NOT YET APPROVED by a clinician"
    lines = [
        f"Protocol: {protocol.name}, version {protocol.version} ({protocol.source})",
        f"  approved by: {approval}",
        f"  quiet hours: {protocol.quiet_start:%H:%M}-{protocol.quiet_end:%H:%M} patient time;"
        " unacknowledged alerts escalate to the admins after "
        + ", ".join(f"{d} ({s.value})" for s, d in protocol.escalate_after.items()),
        "  contacts: "
        + "; ".join(f"{name} {value or '(not set)'}" for name, value in protocol.contacts.items()),
        "",
        f"Schedule ({len(protocol.steps)} check-ins per infusion):",
    ]
    for step in protocol.steps:
        when = "when the infusion is recorded" if step.baseline else f"+{step.offset}"
        reminder = f", reminder after {step.reminder}" if step.reminder else ""
        lines.append(
            f"  {step.id:<10} {when:<30} window {step.window}{reminder};"
            f" {len(step.questions)} questions: {', '.join(step.questions)}"
        )
    lines.append(f"  {'report':<10} {'on /report':<30} {', '.join(protocol.report.questions)}")
    lines += ["", f"Alert rules ({len(protocol.rules)}):"]
    for severity in Severity:
        for rule in (r for r in protocol.rules if r.severity is severity):
            lines.append(f"  {severity.value:<9} {rule.id:<28} {describe_rule(protocol, rule)}")
    return "\n".join(lines)


def describe_rule(protocol: Protocol, rule: Rule) -> str:
    """A rule in one line: its description, condition and the steps it applies to."""
    steps = f" [steps: {', '.join(rule.steps)}]" if rule.steps else ""
    return f"{rule.description} — {_condition(protocol, rule.condition)}{steps}"


def _condition(protocol: Protocol, condition: Condition) -> str:
    if isinstance(condition, AnswerCondition):
        target = " or ".join(condition.questions)
        if condition.any_of:
            test = f"includes any of {', '.join(condition.any_of)}"
            if condition.min_severity:
                test += f" at {condition.min_severity} or worse"
            if condition.new_only:
                test += " (not ticked at baseline)"
        elif condition.equals is not None:
            test = f"= {condition.equals}"
        else:
            bounds = [f">= {condition.at_least:g}"] if condition.at_least is not None else []
            bounds += [f"<= {condition.at_most:g}"] if condition.at_most is not None else []
            test = " and ".join(bounds)
        return f"{target} {test}"
    if isinstance(condition, WorseThanBaseline):
        running = (
            f", {condition.consecutive} check-ins running" if condition.consecutive > 1 else ""
        )
        return f"{condition.measure} {condition.points:g}+ points worse than baseline{running}"
    if isinstance(condition, ReductionBelow):
        return f"{condition.measure} improved by less than {condition.percent:g} %"
    if isinstance(condition, ReliefLost):
        return (
            f"{condition.measure} less than {condition.percent:g} % better than baseline on"
            f" {condition.consecutive} check-ins running, after one that was"
        )
    if isinstance(condition, Missed):
        return "check-in closed without an answer"
    if isinstance(condition, Completed):
        return "check-in answered to the end with no other alert"
    if isinstance(condition, Words):
        if not condition.phrases:
            return "anything else the patient writes, relayed as written"
        count = sum(len(p) for p in condition.phrases.values())
        languages = ", ".join(condition.phrases)
        return f"the patient's words contain one of {count} phrases ({languages})"
    assert isinstance(condition, MissedInARow)
    return f"{condition.count} or more check-ins missed in a row, and each one after"
