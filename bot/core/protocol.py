"""The follow-up protocol: check-in steps, questions, measures, alert rules and texts.

A protocol is a TOML file (format in docs/protocol.md). `load_protocol` reads and validates
it completely; any problem raises ProtocolError naming the file, the key path and what is
wrong, so a broken file stops the bot before it talks to anyone.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot import locales
from bot.core.durations import Duration, DurationError

DEFAULT_PROTOCOL_PATH = Path(__file__).resolve().parent.parent / "default_protocol.toml"

_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_CODE = re.compile(r"^[A-Za-z0-9_]{1,24}$")
CONTACTS = ("emergency_number", "on_call_number", "crisis_line")
OPTIONAL_CONTACTS = ("on_call_number", "crisis_line")
_PLACEHOLDERS = (*CONTACTS, "clinic_name")
# Texts that take a value of the moment: {opens}, when the clinic opens next.
_EXTRA_PLACEHOLDERS = {"urgent_closed": ("opens",)}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SAFETY_TEXTS = ("emergency", "urgent", "crisis")
# A text sent instead of another outside office hours, when the protocol has it.
CLOSED_VARIANTS = {"urgent": "urgent_closed"}
MAX_BUTTON_LABEL = 30
REQUIRED_TEXTS = (
    "clinic_name",
    "footer",
    "welcome",
    "consent",
    "emergency",
    "urgent",
    "crisis",
    "review",
    "relayed",
)
YES, NO = "yes", "no"


class ProtocolError(ValueError):
    """A protocol file that cannot be used, with the file and the key path at fault."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source, self.key, self.problem = source, key, problem
        super().__init__(f"{source}: {key}: {problem}")


class QuestionKind(StrEnum):
    """How a question is answered."""

    SCALE = "scale"
    CHOICE = "choice"
    MULTI = "multi"
    YES_NO = "yes_no"
    TEXT = "text"


class Severity(StrEnum):
    """How fast staff must act on an alert; ordered from most to least urgent."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    REVIEW = "review"

    @property
    def rank(self) -> int:
        """0 for the most urgent."""
        return list(Severity).index(self)


ESCALATING = (Severity.EMERGENCY, Severity.URGENT)
DEFAULT_ESCALATION = {
    Severity.EMERGENCY: Duration(seconds=5 * 60),
    Severity.URGENT: Duration(seconds=30 * 60),
}


@dataclass(frozen=True)
class Option:
    """One answer a patient can tap: a stored code and the label shown."""

    value: str
    label: str

    @property
    def number(self) -> float | None:
        """The code as a number when it is one (scores of ordered choices)."""
        try:
            return float(self.value)
        except ValueError:
            return None


@dataclass(frozen=True)
class AskIf:
    """Ask a question only when an earlier answer equals a value or includes any of options."""

    question: str
    equals: str | None = None
    includes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    """One question of a check-in."""

    id: str
    kind: QuestionKind
    label: str
    text: str
    min: int = 0
    max: int = 10
    options: tuple[Option, ...] = ()
    severities: tuple[Option, ...] = ()
    ask_if: AskIf | None = None
    max_length: int = 1000
    optional: bool = False  # a free-text question the patient may skip
    yes_no: tuple[str, str] = ("Yes", "No")  # the button labels, in the protocol's language
    nothing_ticked: str = "none"  # a checklist answered with nothing ticked, in words

    def option(self, value: str) -> Option | None:
        """The option with this code, if any."""
        return next((o for o in self.options if o.value == value), None)

    def severity(self, value: str) -> Option | None:
        """The severity with this code, if any."""
        return next((s for s in self.severities if s.value == value), None)

    @property
    def choices(self) -> tuple[Option, ...]:
        """Everything tappable for a single answer: scale points, options, or yes and no."""
        if self.kind is QuestionKind.SCALE:
            return tuple(Option(str(n), str(n)) for n in range(self.min, self.max + 1))
        if self.kind is QuestionKind.YES_NO:
            return (Option(YES, self.yes_no[0]), Option(NO, self.yes_no[1]))
        return self.options


@dataclass(frozen=True)
class Step:
    """A check-in in the schedule of one infusion."""

    id: str
    title: str
    questions: tuple[str, ...]
    window: Duration
    offset: Duration | None = None
    reminder: Duration | None = None
    baseline: bool = False
    wording: Mapping[str, str] = field(default_factory=dict)  # question id -> text here

    def question_text(self, question: Question) -> str:
        """The question as this step words it (weekly steps ask "since your last check-in")."""
        return self.wording.get(question.id, question.text)


@dataclass(frozen=True)
class Measure:
    """A number followed over time (pain, mood, sleep) and its baseline question."""

    id: str
    questions: tuple[str, ...]
    baseline_question: str
    higher_is_worse: bool


@dataclass(frozen=True)
class AnswerCondition:
    """Matches an answer to one of `questions`."""

    questions: tuple[str, ...]
    at_least: float | None = None
    at_most: float | None = None
    equals: str | None = None
    any_of: tuple[str, ...] = ()
    min_severity: str | None = None
    new_only: bool = False  # checklist items ticked at baseline do not count


@dataclass(frozen=True)
class WorseThanBaseline:
    """A measure worse than baseline by `points` or more on `consecutive` check-ins running."""

    measure: str
    points: float
    consecutive: int = 1


@dataclass(frozen=True)
class ReductionBelow:
    """A measure improved by less than `percent` of baseline (a non-responder)."""

    measure: str
    percent: float


@dataclass(frozen=True)
class ReliefLost:
    """Relief wearing off: after a check-in improved by `percent` or more on the measure,
    the next `consecutive` check-ins (this one the last) each improved by less."""

    measure: str
    percent: float
    consecutive: int = 2


@dataclass(frozen=True)
class Missed:
    """The check-in closed without an answer."""


@dataclass(frozen=True)
class Completed:
    """The check-in was answered to the end and no other rule alerted for it."""


@dataclass(frozen=True)
class MissedInARow:
    """`count` or more check-ins missed in a row."""

    count: int


@dataclass(frozen=True)
class Words:
    """Something the patient wrote in their own words.

    With no phrases it matches every message (the relay to staff); with phrases (per
    language code) it matches a message containing any of them as whole words.
    """

    phrases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


Condition = (
    AnswerCondition
    | WorseThanBaseline
    | ReductionBelow
    | ReliefLost
    | Missed
    | MissedInARow
    | Completed
    | Words
)


@dataclass(frozen=True)
class Expected:
    """Checklist items expected soon after an infusion: up to `max_severity`, within `within`
    of its start, they are recorded but set off no alert."""

    question: str
    items: tuple[str, ...]
    max_severity: str
    within: Duration


@dataclass(frozen=True)
class Rule:
    """An alert rule: when its condition matches, an alert of `severity` is raised."""

    id: str
    severity: Severity
    description: str
    condition: Condition
    steps: tuple[str, ...] = ()
    patient_text: str | None = None

    def applies_to(self, step_id: str) -> bool:
        """Whether the rule is checked on check-ins of this step."""
        return not self.steps or step_id in self.steps


@dataclass(frozen=True)
class Protocol:
    """A validated protocol, ready for the schedule and the alert rules."""

    name: str
    version: str
    approved_by: str
    questions: Mapping[str, Question]
    steps: tuple[Step, ...]
    report: Step
    measures: Mapping[str, Measure]
    rules: tuple[Rule, ...]
    texts: Mapping[str, str]
    contacts: Mapping[str, str]
    quiet_start: time
    quiet_end: time
    escalate_after: Mapping[Severity, Duration]
    expected: tuple[Expected, ...] = ()
    office_days: frozenset[int] = frozenset(range(5))  # 0 = Monday
    office_start: time = time(8)
    office_end: time = time(18)
    safety_part: tuple[str, ...] = ()
    baseline_until: Duration = field(default_factory=lambda: Duration(seconds=30 * 60))
    source: str = field(default="", compare=False)
    language: str = locales.DEFAULT_LANGUAGE  # of every patient-facing text in this copy
    languages: tuple[str, ...] = (locales.DEFAULT_LANGUAGE,)  # the first is the default
    # The same protocol in each of its languages, this one included.
    translations: Mapping[str, Protocol] = field(default_factory=dict, compare=False, repr=False)

    def in_language(self, language: str | None) -> Protocol:
        """This protocol with the patient-facing texts of `language` (default: the first)."""
        return self.translations.get(language) or self.translations.get(self.languages[0], self)

    def step(self, step_id: str) -> Step:
        """The step with this id (the ad-hoc report included)."""
        if step_id == self.report.id:
            return self.report
        return next(s for s in self.steps if s.id == step_id)

    @property
    def baseline_step(self) -> Step | None:
        """The step whose answers are the infusion's baseline, if the protocol has one."""
        return next((s for s in self.steps if s.baseline), None)

    @property
    def unset_contacts(self) -> tuple[str, ...]:
        """The optional contacts the clinic has not filled in."""
        return tuple(name for name in OPTIONAL_CONTACTS if not self.contacts.get(name))

    def text(self, key: str, **moment: str) -> str:
        """A patient- or staff-facing text with its placeholders filled in.

        A line that names a contact the clinic has not set is left out, so a patient never
        reads a placeholder; every safety text keeps a line with the emergency number.
        """
        values = {**self.contacts, "clinic_name": self.texts["clinic_name"]}
        unset = self.unset_contacts
        lines = [
            line
            for line in self.texts[key].split("\n")
            if not any(f"{{{name}}}" in line for name in unset)
        ]
        return "\n".join(lines).format(**values, **moment)

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with this id, if the protocol has one."""
        return next((r for r in self.rules if r.id == rule_id), None)


def load_protocol(path: str | Path = DEFAULT_PROTOCOL_PATH) -> Protocol:
    """Read and validate a protocol file; raise ProtocolError on any problem.

    Returns the protocol in its first (default) language; `in_language` gives the others.
    """
    source = str(path)
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProtocolError(source, "(file)", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(source, "(file)", f"not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProtocolError(source, "(file)", f"cannot be read: {exc}") from None
    languages = _ProtocolReader(source).read_languages(raw)
    translations = {
        language: _ProtocolReader(source, languages, language).read(raw) for language in languages
    }
    first = translations[languages[0]]
    for protocol in translations.values():
        _same_placeholders(source, first, protocol)
        protocol.translations.update(translations)
    return first


def _same_placeholders(source: str, first: Protocol, translation: Protocol) -> None:
    """Every text fills in the same values in each language (checked once each is valid)."""
    for name, text in translation.texts.items():
        wanted = locales.placeholders(first.texts[name])
        if locales.placeholders(text) != wanted:
            listed = ", ".join(f"{{{p}}}" for p in sorted(wanted)) or "none"
            raise ProtocolError(
                source,
                f"texts.{name}.{translation.language}",
                f"must use the placeholders {first.language} uses: {listed}",
            )


class _ProtocolReader:
    """Turns parsed TOML into a Protocol in one language, keeping the key path for errors.

    Every pass checks that each patient-facing text has all the protocol's languages.
    """

    def __init__(
        self,
        source: str,
        languages: tuple[str, ...] = (locales.DEFAULT_LANGUAGE,),
        language: str = locales.DEFAULT_LANGUAGE,
    ) -> None:
        self.source = source
        self.languages, self.language = languages, language

    def fail(self, key: str, problem: str) -> ProtocolError:
        return ProtocolError(self.source, key, problem)

    # -- generic accessors -------------------------------------------------------------

    def table(self, raw: Any, key: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(key, "must be a table")
        return raw

    def get(self, table: dict, name: str, key: str, kind: type, default: Any = ...) -> Any:
        if name not in table:
            if default is ...:
                raise self.fail(f"{key}.{name}" if key else name, "is required")
            return default
        value = table[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(f"{key}.{name}" if key else name, f"must be {_kind_name(kind)}")
        return value

    def localized(
        self,
        table: dict,
        name: str,
        key: str,
        default: Any = ...,
        allowed: tuple[str, ...] | None = None,
    ) -> str:
        """A patient-facing text in this pass's language: `{ en = "...", es = "..." }`.

        A plain string is allowed when the protocol has one language. A text with
        placeholders may use only the `allowed` ones (see also `same_placeholders`).
        """
        where = f"{key}.{name}" if key else name
        if name not in table and default is not ...:
            return default
        value = table.get(name)
        if isinstance(value, str) and len(self.languages) == 1:
            value = {self.languages[0]: value}
        if not isinstance(value, dict):
            wanted = ", ".join(f'{language} = "..."' for language in self.languages)
            problem = "is required" if value is None else "needs a text in each language"
            raise self.fail(where, f"{problem}: {{ {wanted} }}")
        self.unknown_keys(value, set(self.languages), where)
        for language in self.languages:
            if language not in value:
                raise self.fail(
                    f"{where}.{language}",
                    f"is missing: every patient-facing text needs {', '.join(self.languages)}",
                )
            self.text(value, language, where)
            if allowed is not None:
                where_in = self.in_language(where, language)
                self.check_placeholders(value[language], allowed, where_in)
        return value[self.language]

    def check_placeholders(self, text: str, allowed: tuple[str, ...], key: str) -> None:
        try:
            string.Formatter().vformat(text, (), {p: "" for p in allowed})
        except (KeyError, IndexError, ValueError) as exc:
            names = ", ".join(f"{{{name}}}" for name in allowed) or "none"
            raise self.fail(key, f"bad placeholder {exc}; use only: {names}") from None

    def in_language(self, key: str, language: str | None = None) -> str:
        """A key path naming a language (this pass's), when the protocol has several."""
        return f"{key}.{language or self.language}" if len(self.languages) > 1 else key

    def read_languages(self, raw: dict[str, Any]) -> tuple[str, ...]:
        meta = raw.get("protocol")  # not a table: read() says so
        default = [locales.DEFAULT_LANGUAGE]
        languages = (
            self.get(meta, "languages", "protocol", list, default)
            if isinstance(meta, dict)
            else default
        )
        if not languages or len(set(languages)) != len(languages):
            raise self.fail("protocol.languages", 'must list each language once, e.g. ["en"]')
        for index, language in enumerate(languages):
            if language not in locales.CATALOGS:
                raise self.fail(
                    f"protocol.languages[{index}]",
                    f"{language!r} has no bot texts (bot/locales has"
                    f" {', '.join(sorted(locales.CATALOGS))})",
                )
            for text_key, problem in locales.catalog_problems(language)[:1]:
                raise ProtocolError(locales.catalog_file(language), text_key, problem)
        return tuple(languages)

    def text(self, table: dict, name: str, key: str, default: Any = ...) -> str:
        value = self.get(table, name, key, str, default)
        if value is not None and not value.strip():
            raise self.fail(f"{key}.{name}", "must not be empty")
        return value

    def identifier(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not _ID.match(value):
            raise self.fail(key, "must be an id: lower-case letters, digits and _, at most 32")
        return value

    def duration(self, table: dict, name: str, key: str, required: bool = True) -> Duration | None:
        if name not in table and not required:
            return None
        raw = self.get(table, name, key, str)
        try:
            return Duration.parse(raw)
        except DurationError as exc:
            raise self.fail(f"{key}.{name}", str(exc)) from None

    def unknown_keys(self, table: dict, allowed: set[str], key: str) -> None:
        extra = sorted(set(table) - allowed)
        if extra:
            where = f"{key}.{extra[0]}" if key else extra[0]
            raise self.fail(where, f"unknown key; expected one of {', '.join(sorted(allowed))}")

    # -- sections ----------------------------------------------------------------------

    def read(self, raw: dict[str, Any]) -> Protocol:
        self.unknown_keys(
            raw,
            {"protocol", "schedule", "alerts", "texts", "questions", "measures", "steps"}
            | {"report", "rules", "follow_up", "contacts", "office_hours", "expected"},
            "",
        )
        meta = self.table(raw.get("protocol"), "protocol")
        contacts = self.read_contacts(raw.get("contacts"))
        texts = self.read_texts(raw.get("texts"))
        questions = self.read_questions(raw.get("questions"))
        steps = self.read_steps(raw.get("steps"), questions)
        report = self.read_report(raw.get("report"), questions)
        measures = self.read_measures(raw.get("measures", {}), questions, steps)
        rules = self.read_rules(raw.get("rules"), questions, measures, steps, texts)
        self.check_safety_texts(texts, rules)
        schedule = self.table(raw.get("schedule", {}), "schedule")
        self.unknown_keys(schedule, {"quiet_hours"}, "schedule")
        quiet = self.table(
            schedule.get("quiet_hours", {"start": "22:00", "end": "08:00"}),
            "schedule.quiet_hours",
        )
        alerts = self.table(raw.get("alerts", {}), "alerts")
        self.unknown_keys(alerts, {"escalate_after"}, "alerts")
        office = self.table(
            raw.get("office_hours", {"start": "08:00", "end": "18:00"}), "office_hours"
        )
        self.unknown_keys(office, {"days", "start", "end"}, "office_hours")
        follow_up = self.table(raw.get("follow_up", {}), "follow_up")
        self.unknown_keys(follow_up, {"safety_part", "baseline_until"}, "follow_up")
        return Protocol(
            name=self.text(meta, "name", "protocol"),
            version=self.text(meta, "version", "protocol"),
            approved_by=self.get(meta, "approved_by", "protocol", str, ""),
            questions=questions,
            steps=steps,
            report=report,
            measures=measures,
            rules=rules,
            texts=texts,
            contacts=contacts,
            quiet_start=self.clock_time(quiet, "start", "schedule.quiet_hours"),
            quiet_end=self.clock_time(quiet, "end", "schedule.quiet_hours"),
            escalate_after=self.read_escalation(alerts),
            expected=self.read_expected(raw.get("expected", []), questions),
            office_days=self.read_days(office),
            office_start=self.clock_time(office, "start", "office_hours"),
            office_end=self.clock_time(office, "end", "office_hours"),
            language=self.language,
            languages=self.languages,
            safety_part=self.question_ids(follow_up, "safety_part", "follow_up", questions),
            baseline_until=self.duration(follow_up, "baseline_until", "follow_up", required=False)
            or Duration(seconds=30 * 60),
            source=self.source,
        )

    def read_expected(self, raw: Any, questions: dict) -> tuple[Expected, ...]:
        if not isinstance(raw, list):
            raise self.fail("expected", "must be a list of [[expected]] tables")
        found = []
        for index, body in enumerate(raw):
            key = f"expected[{index}]"
            body = self.table(body, key)
            self.unknown_keys(body, {"question", "items", "max_severity", "within"}, key)
            question = questions.get(self.get(body, "question", key, str))
            if question is None or question.kind is not QuestionKind.MULTI:
                raise self.fail(f"{key}.question", "must be a checklist (multi) question")
            items = tuple(self.get(body, "items", key, list))
            for item in items:
                if question.option(item) is None:
                    raise self.fail(f"{key}.items", f"{item!r} is not an option of {question.id!r}")
            severity = self.get(body, "max_severity", key, str)
            if question.severity(severity) is None:
                raise self.fail(f"{key}.max_severity", f"{severity!r} is not a severity")
            within = self.duration(body, "within", key)
            found.append(Expected(question.id, items, severity, within))
        return tuple(found)

    def read_days(self, office: dict) -> frozenset[int]:
        days = self.get(office, "days", "office_hours", list, list(WEEKDAYS[:5]))
        if not days or any(d not in WEEKDAYS for d in days):
            raise self.fail("office_hours.days", f"must list days among {', '.join(WEEKDAYS)}")
        return frozenset(WEEKDAYS.index(d) for d in days)

    def read_escalation(self, alerts: dict) -> dict[Severity, Duration]:
        """Per severity (emergency, urgent): when an unacknowledged alert goes to the admins."""
        key = "alerts.escalate_after"
        table = self.table(alerts.get("escalate_after", {}), key)
        self.unknown_keys(table, {s.value for s in ESCALATING}, key)
        return {
            severity: self.duration(table, severity.value, key, required=False)
            or DEFAULT_ESCALATION[severity]
            for severity in ESCALATING
        }

    def question_ids(self, table: dict, name: str, key: str, questions: dict) -> tuple[str, ...]:
        ids = self.get(table, name, key, list, [])
        for index, qid in enumerate(ids):
            if qid not in questions:
                raise self.fail(f"{key}.{name}[{index}]", f"unknown question {qid!r}")
        return tuple(ids)

    def read_contacts(self, raw: Any) -> dict[str, str]:
        contacts = self.table(raw, "contacts")
        self.unknown_keys(contacts, set(CONTACTS), "contacts")
        values = {name: self.get(contacts, name, "contacts", str, "").strip() for name in CONTACTS}
        if not values["emergency_number"]:
            raise self.fail("contacts.emergency_number", "is required: the number to call now")
        return values

    def check_safety_texts(self, texts: dict[str, str], rules: tuple[Rule, ...]) -> None:
        """Every text sent for an alert keeps the emergency number when contacts are unset."""
        keys = set(SAFETY_TEXTS) | {r.patient_text for r in rules if r.patient_text}
        keys |= {v for v in CLOSED_VARIANTS.values() if v in texts}
        for key in sorted(keys):
            lines = texts[key].split("\n")
            if not any(
                "{emergency_number}" in line
                and not any(f"{{{name}}}" in line for name in OPTIONAL_CONTACTS)
                for line in lines
            ):
                raise self.fail(
                    self.in_language(f"texts.{key}"),
                    "needs a line with {emergency_number} and no other contact, so that the "
                    "patient always has a number to call",
                )

    def clock_time(self, table: dict, name: str, key: str) -> time:
        raw = self.get(table, name, key, str)
        try:
            return time.fromisoformat(raw)
        except ValueError:
            raise self.fail(f"{key}.{name}", f'{raw!r} is not a time like "22:00"') from None

    def read_texts(self, raw: Any) -> dict[str, str]:
        table = self.table(raw, "texts")
        names = [*REQUIRED_TEXTS, *(name for name in table if name not in REQUIRED_TEXTS)]
        return {
            name: self.localized(
                table, name, "texts", allowed=(*_PLACEHOLDERS, *_EXTRA_PLACEHOLDERS.get(name, ()))
            )
            for name in names
        }

    def read_options(self, raw: Any, key: str) -> tuple[Option, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.fail(key, "must be a non-empty list of {value, label} tables")
        options = []
        for index, item in enumerate(raw):
            where = f"{key}[{index}]"
            item = self.table(item, where)
            self.unknown_keys(item, {"value", "label"}, where)
            value = item.get("value")
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str) or not _CODE.match(value):
                raise self.fail(f"{where}.value", "must be a short code of letters, digits, _")
            label = self.localized(item, "label", where)
            if len(label) > MAX_BUTTON_LABEL:
                raise self.fail(
                    self.in_language(f"{where}.label"),
                    f"is a button: at most {MAX_BUTTON_LABEL} characters (has {len(label)});"
                    " put the full wording in the question text",
                )
            options.append(Option(value, label))
        if len({o.value for o in options}) != len(options):
            raise self.fail(key, "option values must be unique")
        return tuple(options)

    def read_questions(self, raw: Any) -> dict[str, Question]:
        table = self.table(raw, "questions")
        if not table:
            raise self.fail("questions", "must define at least one question")
        questions = {qid: self.read_question(qid, body) for qid, body in table.items()}
        for question in questions.values():
            self.check_ask_if(question, questions)
        return questions

    def read_question(self, qid: str, raw: Any) -> Question:
        key = f"questions.{qid}"
        self.identifier(qid, key)
        body = self.table(raw, key)
        self.unknown_keys(
            body,
            {"kind", "label", "text", "min", "max", "options", "severities", "ask_if"}
            | {"max_length", "optional"},
            key,
        )
        kind_raw = self.get(body, "kind", key, str)
        try:
            kind = QuestionKind(kind_raw)
        except ValueError:
            kinds = ", ".join(k.value for k in QuestionKind)
            raise self.fail(f"{key}.kind", f"{kind_raw!r} is not one of {kinds}") from None
        question = Question(
            id=qid,
            kind=kind,
            label=self.localized(body, "label", key),
            text=self.localized(body, "text", key),
            min=self.get(body, "min", key, int, 0),
            max=self.get(body, "max", key, int, 10),
            options=self.read_options(body["options"], f"{key}.options")
            if "options" in body
            else (),
            severities=self.read_options(body["severities"], f"{key}.severities")
            if "severities" in body
            else (),
            ask_if=self.read_ask_if(body["ask_if"], f"{key}.ask_if") if "ask_if" in body else None,
            max_length=self.get(body, "max_length", key, int, 1000),
            optional=self.get(body, "optional", key, bool, False),
            yes_no=(locales.say(self.language, "yes"), locales.say(self.language, "no")),
            nothing_ticked=locales.say(self.language, "nothing_ticked"),
        )
        self.check_question_shape(question, body, key)
        return question

    def check_question_shape(self, question: Question, body: dict, key: str) -> None:
        kind = question.kind
        if kind is QuestionKind.SCALE and not 0 <= question.min < question.max <= 10:
            raise self.fail(f"{key}.max", "a scale runs from min to max within 0 to 10")
        needs_options = kind in (QuestionKind.CHOICE, QuestionKind.MULTI)
        if needs_options and not question.options:
            raise self.fail(f"{key}.options", f"is required for a {kind} question")
        if not needs_options and "options" in body:
            raise self.fail(f"{key}.options", f"is not used by a {kind} question")
        for name, owner in (
            ("min", QuestionKind.SCALE),
            ("max", QuestionKind.SCALE),
            ("max_length", QuestionKind.TEXT),
            ("optional", QuestionKind.TEXT),
        ):
            if name in body and kind is not owner:
                raise self.fail(f"{key}.{name}", f"is only used by a {owner} question")
        if "severities" in body and kind is not QuestionKind.MULTI:
            raise self.fail(f"{key}.severities", "is only used by a multi question")
        if kind is QuestionKind.MULTI and len(question.options) > 30:
            raise self.fail(f"{key}.options", "a multi question has at most 30 options")

    def read_ask_if(self, raw: Any, key: str) -> AskIf:
        body = self.table(raw, key)
        self.unknown_keys(body, {"question", "equals", "includes"}, key)
        includes = body.get("includes", [])
        if isinstance(includes, str):
            includes = [includes]
        if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
            raise self.fail(f"{key}.includes", "must be an option code or a list of them")
        ask_if = AskIf(
            question=self.get(body, "question", key, str),
            equals=self.get(body, "equals", key, str, None),
            includes=tuple(includes),
        )
        if (ask_if.equals is None) == (not ask_if.includes):
            raise self.fail(key, "needs exactly one of equals or includes")
        return ask_if

    def check_ask_if(self, question: Question, questions: dict[str, Question]) -> None:
        if question.ask_if is None:
            return
        key = f"questions.{question.id}.ask_if"
        target = questions.get(question.ask_if.question)
        if target is None:
            raise self.fail(f"{key}.question", f"unknown question {question.ask_if.question!r}")
        codes = {o.value for o in target.choices}
        for wanted in question.ask_if.includes or (question.ask_if.equals,):
            if codes and wanted not in codes:
                raise self.fail(key, f"{wanted!r} is not an answer of {target.id!r}")

    def read_step_questions(self, body: dict, key: str, questions: dict) -> tuple[str, ...]:
        ids = self.get(body, "questions", key, list)
        if not ids:
            raise self.fail(f"{key}.questions", "must list at least one question")
        for index, qid in enumerate(ids):
            if qid not in questions:
                raise self.fail(f"{key}.questions[{index}]", f"unknown question {qid!r}")
            ask_if = questions[qid].ask_if
            if ask_if and ask_if.question not in ids[:index]:
                raise self.fail(
                    f"{key}.questions[{index}]",
                    f"{qid!r} depends on {ask_if.question!r}, which must be asked before it",
                )
        if len(set(ids)) != len(ids):
            raise self.fail(f"{key}.questions", "lists a question twice")
        return tuple(ids)

    def read_steps(self, raw: Any, questions: dict[str, Question]) -> tuple[Step, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.fail("steps", "must be a non-empty list of [[steps]] tables")
        steps = tuple(self.read_step(i, body, questions) for i, body in enumerate(raw))
        ids = [s.id for s in steps]
        if len(set(ids)) != len(ids):
            raise self.fail("steps", "step ids must be unique")
        if sum(s.baseline for s in steps) > 1:
            raise self.fail("steps", "at most one step can be the baseline")
        return steps

    def read_step(self, index: int, raw: Any, questions: dict) -> Step:
        key = f"steps[{index}]"
        body = self.table(raw, key)
        self.unknown_keys(
            body,
            {"id", "title", "questions", "window", "offset", "reminder", "baseline", "wording"},
            key,
        )
        step_id = self.identifier(body.get("id"), f"{key}.id")
        key = f"steps[{index}] ({step_id})"
        baseline = self.get(body, "baseline", key, bool, False)
        offset = self.duration(body, "offset", key, required=not baseline)
        if baseline and offset is not None:
            raise self.fail(
                f"{key}.offset", "a baseline step is sent when the infusion is recorded"
            )
        window = self.duration(body, "window", key)
        reminder = self.duration(body, "reminder", key, required=False)
        if window.approx.total_seconds() <= 0:
            raise self.fail(f"{key}.window", "must be longer than zero")
        if reminder and not reminder.approx < window.approx:
            raise self.fail(f"{key}.reminder", "must come before the window closes")
        step_questions = self.read_step_questions(body, key, questions)
        return Step(
            id=step_id,
            title=self.localized(body, "title", key),
            questions=step_questions,
            window=window,
            offset=offset,
            reminder=reminder,
            baseline=baseline,
            wording=self.read_wording(body, key, step_questions),
        )

    def read_wording(self, body: dict, key: str, step_questions: tuple[str, ...]) -> dict:
        wording = self.table(body.get("wording", {}), f"{key}.wording")
        for qid in wording:
            if qid not in step_questions:
                raise self.fail(f"{key}.wording.{qid}", "is not a question of this step")
        return {qid: self.localized(wording, qid, f"{key}.wording") for qid in wording}

    def read_report(self, raw: Any, questions: dict) -> Step:
        body = self.table(raw, "report")
        self.unknown_keys(body, {"title", "questions", "window"}, "report")
        return Step(
            id="report",
            title=self.localized(body, "title", "report"),
            questions=self.read_step_questions(body, "report", questions),
            window=self.duration(body, "window", "report", required=False)
            or Duration(seconds=3600),
        )

    def read_measures(self, raw: Any, questions: dict, steps: tuple) -> dict[str, Measure]:
        table = self.table(raw, "measures")
        measures = {}
        for mid, body in table.items():
            key = f"measures.{mid}"
            self.identifier(mid, key)
            body = self.table(body, key)
            self.unknown_keys(body, {"questions", "baseline", "higher_is_worse"}, key)
            ids = self.get(body, "questions", key, list)
            for index, qid in enumerate(ids):
                question = questions.get(qid)
                if question is None:
                    raise self.fail(f"{key}.questions[{index}]", f"unknown question {qid!r}")
                numeric = question.kind is QuestionKind.SCALE or (
                    question.kind is QuestionKind.CHOICE
                    and all(o.number is not None for o in question.options)
                )
                if not numeric:
                    raise self.fail(f"{key}.questions[{index}]", f"{qid!r} has no numeric answer")
            baseline = self.get(body, "baseline", key, str)
            if baseline not in ids:
                raise self.fail(f"{key}.baseline", "must be one of the measure's questions")
            measures[mid] = Measure(
                mid, tuple(ids), baseline, self.get(body, "higher_is_worse", key, bool)
            )
        return measures

    def read_rules(
        self, raw: Any, questions: dict, measures: dict, steps: tuple, texts: dict
    ) -> tuple[Rule, ...]:
        if not isinstance(raw, list):
            raise self.fail("rules", "must be a list of [[rules]] tables")
        rules = tuple(
            self.read_rule(i, body, questions, measures, steps, texts) for i, body in enumerate(raw)
        )
        ids = [r.id for r in rules]
        if len(set(ids)) != len(ids):
            raise self.fail("rules", "rule ids must be unique")
        if not any(isinstance(r.condition, Words) and not r.condition.phrases for r in rules):
            raise self.fail(
                "rules",
                'needs a rule with when = "words" and no phrases: whatever a patient writes'
                " must reach staff",
            )
        return rules

    def read_rule(
        self, index: int, raw: Any, questions: dict, measures: dict, steps: tuple, texts: dict
    ) -> Rule:
        key = f"rules[{index}]"
        body = self.table(raw, key)
        rule_id = self.identifier(body.get("id"), f"{key}.id")
        key = f"rules[{index}] ({rule_id})"
        severity_raw = self.get(body, "severity", key, str)
        try:
            severity = Severity(severity_raw)
        except ValueError:
            names = ", ".join(s.value for s in Severity)
            raise self.fail(f"{key}.severity", f"{severity_raw!r} is not one of {names}") from None
        step_ids = tuple(self.get(body, "steps", key, list, []))
        known_steps = {s.id for s in steps} | {"report"}
        for i, step_id in enumerate(step_ids):
            if step_id not in known_steps:
                raise self.fail(f"{key}.steps[{i}]", f"unknown step {step_id!r}")
        patient_text = self.get(body, "patient_text", key, str, None)
        if patient_text is not None and patient_text not in texts:
            raise self.fail(f"{key}.patient_text", f"no text {patient_text!r} in [texts]")
        condition = self.read_condition(body, key, questions, measures)
        return Rule(
            id=rule_id,
            severity=severity,
            description=self.text(body, "description", key),
            condition=condition,
            steps=step_ids,
            patient_text=patient_text,
        )

    def read_condition(self, body: dict, key: str, questions: dict, measures: dict) -> Condition:
        common = {"id", "severity", "description", "steps", "patient_text", "when"}
        when = self.get(body, "when", key, str)
        if when == "answer":
            self.unknown_keys(
                body,
                common
                | {"question", "at_least", "at_most", "equals", "any_of"}
                | {"min_severity", "new_only"},
                key,
            )
            return self.read_answer_condition(body, key, questions)
        if when in ("worse_than_baseline", "reduction_below", "relief_lost"):
            extra = {
                "worse_than_baseline": {"points", "consecutive"},
                "reduction_below": {"percent"},
                "relief_lost": {"percent", "consecutive"},
            }[when]
            self.unknown_keys(body, common | {"measure"} | extra, key)
            measure = self.get(body, "measure", key, str)
            if measure not in measures:
                raise self.fail(f"{key}.measure", f"unknown measure {measure!r}")
            default_run = 2 if when == "relief_lost" else 1
            consecutive = self.get(body, "consecutive", key, int, default_run)
            if consecutive < 1:
                raise self.fail(f"{key}.consecutive", "must be 1 or more")
            if when == "worse_than_baseline":
                return WorseThanBaseline(measure, self.positive(body, "points", key), consecutive)
            if when == "relief_lost":
                return ReliefLost(measure, self.positive(body, "percent", key), consecutive)
            return ReductionBelow(measure, self.positive(body, "percent", key))
        if when == "words":
            self.unknown_keys(body, common | {"phrases"}, key)
            return Words(self.read_phrases(body, key))
        if when == "missed":
            self.unknown_keys(body, common, key)
            return Missed()
        if when == "completed":
            self.unknown_keys(body, common, key)
            return Completed()
        if when == "missed_in_a_row":
            self.unknown_keys(body, common | {"count"}, key)
            count = self.get(body, "count", key, int)
            if count < 1:
                raise self.fail(f"{key}.count", "must be 1 or more")
            return MissedInARow(count)
        kinds = (
            "answer, worse_than_baseline, reduction_below, relief_lost, missed, missed_in_a_row,"
            " completed, words"
        )
        raise self.fail(f"{key}.when", f"{when!r} is not one of {kinds}")

    def read_phrases(self, body: dict, key: str) -> dict[str, tuple[str, ...]]:
        table = self.table(body.get("phrases", {}), f"{key}.phrases")
        phrases = {}
        for language, items in table.items():
            where = f"{key}.phrases.{language}"
            if not isinstance(items, list) or not items:
                raise self.fail(where, "must be a non-empty list of phrases")
            if not all(isinstance(i, str) and i.strip() for i in items):
                raise self.fail(where, "every phrase must be non-empty text")
            phrases[language] = tuple(items)
        return phrases

    def positive(self, body: dict, name: str, key: str) -> float:
        value = self.get(body, name, key, float)
        if value <= 0:
            raise self.fail(f"{key}.{name}", "must be greater than zero")
        return value

    def read_answer_condition(self, body: dict, key: str, questions: dict) -> AnswerCondition:
        raw_ids = body.get("question")
        ids = [raw_ids] if isinstance(raw_ids, str) else raw_ids
        if not isinstance(ids, list) or not ids:
            raise self.fail(f"{key}.question", "is required: a question id or a list of them")
        targets = []
        for qid in ids:
            if qid not in questions:
                raise self.fail(f"{key}.question", f"unknown question {qid!r}")
            targets.append(questions[qid])
        condition = AnswerCondition(
            questions=tuple(ids),
            at_least=self.get(body, "at_least", key, float, None),
            at_most=self.get(body, "at_most", key, float, None),
            equals=self.get(body, "equals", key, str, None),
            any_of=tuple(self.get(body, "any_of", key, list, [])),
            min_severity=self.get(body, "min_severity", key, str, None),
            new_only=self.get(body, "new_only", key, bool, False),
        )
        tests = [
            condition.at_least is not None or condition.at_most is not None,
            condition.equals is not None,
            bool(condition.any_of),
        ]
        if sum(tests) != 1:
            raise self.fail(key, "needs exactly one test: at_least/at_most, equals or any_of")
        for question in targets:
            self.check_answer_test(condition, question, key)
        return condition

    def check_answer_test(self, condition: AnswerCondition, question: Question, key: str) -> None:
        codes = {o.value for o in question.choices}
        for value in (condition.equals, *condition.any_of):
            if value is not None and value not in codes:
                raise self.fail(key, f"{value!r} is not an answer of question {question.id!r}")
        numeric = condition.at_least is not None or condition.at_most is not None
        if numeric and not all(o.number is not None for o in question.choices):
            raise self.fail(key, f"question {question.id!r} has no numeric answer")
        if condition.min_severity is not None and question.severity(condition.min_severity) is None:
            raise self.fail(
                f"{key}.min_severity",
                f"{condition.min_severity!r} is not a severity of question {question.id!r}",
            )
        if question.kind is QuestionKind.TEXT:
            raise self.fail(f"{key}.question", "free-text answers cannot trigger rules")
        if condition.new_only and question.kind is not QuestionKind.MULTI:
            raise self.fail(f"{key}.new_only", "is only used with a multi question")


def _kind_name(kind: type) -> str:
    return {str: "text", int: "a whole number", float: "a number", bool: "true or false"}.get(
        kind, "a " + ("list" if kind is list else "table")
    )
