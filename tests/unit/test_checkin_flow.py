"""The flow of one check-in: "None of these", skips, follow-ups and the summary's questions."""

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import keyboards
from bot.core import checkin as flow
from bot.core.protocol import load_protocol
from bot.core.rules import AnswerContext, evaluate_answers
from bot.keyboards import Action, Callback
from bot.voice import voice

PROTOCOL = load_protocol()
ENGLISH = voice(PROTOCOL, "en")
SIDE_EFFECTS = PROTOCOL.questions["side_effects"]
WORDS = PROTOCOL.questions["report_words"]
EVENING = PROTOCOL.step("evening")
CODES = [o.value for o in SIDE_EFFECTS.options]
NONE = flow.NONE_OF_THESE


def test_ticking_none_of_these_unticks_every_item_and_an_item_unticks_it():
    ticked = flow.set_tick(SIDE_EFFECTS, [], "headache", ticked=True)
    ticked = flow.set_tick(SIDE_EFFECTS, ticked, "nausea", ticked=True)
    assert ticked == ["nausea", "headache"]  # in the checklist's order
    assert flow.set_tick(SIDE_EFFECTS, ticked, NONE, ticked=True) == [NONE]
    assert flow.set_tick(SIDE_EFFECTS, [NONE], "rash", ticked=True) == ["rash"]
    assert flow.set_tick(SIDE_EFFECTS, [NONE], NONE, ticked=False) == []


@given(st.lists(st.tuples(st.sampled_from([*CODES, NONE]), st.booleans()), max_size=30))
def test_none_of_these_is_never_ticked_with_an_item(taps):
    ticked: list[str] = []
    for code, tick in taps:
        ticked = flow.set_tick(SIDE_EFFECTS, ticked, code, ticked=tick)
        assert ticked == [NONE] or NONE not in ticked
        # A repeated tap (a replayed update) changes nothing.
        assert flow.set_tick(SIDE_EFFECTS, ticked, code, ticked=tick) == ticked


def test_done_needs_a_tick_and_none_of_these_is_the_empty_answer():
    with pytest.raises(flow.NothingTicked):
        flow.multi_answer(SIDE_EFFECTS, [])
    assert flow.multi_answer(SIDE_EFFECTS, [NONE]) == {}
    assert flow.multi_answer(SIDE_EFFECTS, ["rash"]) == {"rash": None}
    with pytest.raises(flow.InvalidAnswer):
        flow.set_tick(SIDE_EFFECTS, [], "not_an_option", ticked=True)


def test_done_again_keeps_the_severities_of_items_still_ticked():
    earlier = {"headache": "mild", "rash": "severe"}
    kept = flow.multi_answer(SIDE_EFFECTS, ["headache", "nausea"], earlier)
    assert kept == {"headache": "mild", "nausea": None}
    assert flow.multi_answer(SIDE_EFFECTS, [NONE], earlier) == {}


def test_none_of_these_is_asked_again_ticked_and_the_rules_read_it_as_nothing():
    assert flow.ticks_of({}) == [NONE]
    assert flow.ticks_of({"rash": "mild", "nausea": None}) == ["rash", "nausea"]
    context = AnswerContext(
        step_id="evening",
        answers={"pain_now": 2, "side_effects": {}},
        baseline={"pain_avg_24h": 3},
        earlier=[],
        is_baseline=False,
    )
    assert evaluate_answers(PROTOCOL, context) == []
    assert flow.describe_answer(SIDE_EFFECTS, {}) == "none"


def test_a_skip_is_an_answer_of_its_own_and_only_free_text_can_be_skipped():
    assert flow.skip_answer(WORDS) is flow.SKIPPED
    with pytest.raises(flow.InvalidAnswer):
        flow.skip_answer(SIDE_EFFECTS)
    report = PROTOCOL.report
    answered = {q: "no" for q in report.questions if PROTOCOL.questions[q].kind == "yes_no"}
    answered |= {"side_effects": {}, "urine_liver": {}}
    assert flow.next_question(PROTOCOL, report, answered) == WORDS
    answered["report_words"] = flow.SKIPPED
    assert flow.next_question(PROTOCOL, report, answered) is None
    assert flow.describe_answer(WORDS, flow.SKIPPED) == "skipped"
    assert flow.describe_answer(WORDS, "") == "skipped"  # as a skip was stored before


def test_a_changed_checklist_drops_the_follow_ups_it_no_longer_asks():
    before = {
        "pain_now": 3,
        "side_effects": {"headache": "mild"},
        "headache_sudden": "no",
        "headache_neuro": "no",
    }
    assert flow.no_longer_asked(PROTOCOL, EVENING, before) == []
    after = {**before, "side_effects": {"nausea": None}}
    assert flow.no_longer_asked(PROTOCOL, EVENING, after) == ["headache_sudden", "headache_neuro"]
    remaining = {k: v for k, v in after.items() if not k.startswith("headache")}
    # The severity comes first, then the follow-up the new tick made apply.
    assert flow.next_question(PROTOCOL, EVENING, remaining) == SIDE_EFFECTS
    remaining["side_effects"] = {"nausea": "mild"}
    assert flow.next_question(PROTOCOL, EVENING, remaining).id == "fluids_not_kept_down"


def test_the_summary_lists_the_questions_asked_and_answered_in_order():
    answers = {"pain_now": 3, "side_effects": {"headache": "mild"}, "headache_sudden": "no"}
    shown = [q.id for q in flow.summary_questions(PROTOCOL, EVENING, answers)]
    assert shown == ["pain_now", "side_effects", "headache_sudden"]
    unfinished = {"pain_now": 3, "side_effects": {"headache": None}}
    assert [q.id for q in flow.summary_questions(PROTOCOL, EVENING, unfinished)] == ["pain_now"]


def test_the_checklist_keyboard_has_an_exclusive_box_and_done():
    rows = keyboards.multi_keyboard(ENGLISH, 7, SIDE_EFFECTS, [NONE], can_go_back=False)
    none_box, done = rows[-2][0], rows[-1][0]
    assert none_box[0] == "☑ None of these"
    assert Callback.decode(none_box[1]) == Callback(
        Action.TOGGLE, 7, "side_effects", len(SIDE_EFFECTS.options), 0
    )
    assert done == ("Done", Callback(Action.DONE, 7, "side_effects").encode())
    rows = keyboards.multi_keyboard(ENGLISH, 7, SIDE_EFFECTS, ["rash", "nausea"], can_go_back=False)
    assert rows[-2][0][0] == "☐ None of these" and rows[-1][0][0] == "Done (2 ticked)"


def test_the_summary_keyboard_sends_first_then_changes_each_answer():
    questions = [PROTOCOL.questions["pain_now"], SIDE_EFFECTS]
    rows = keyboards.summary_keyboard(ENGLISH, 12, questions)
    assert [label for [(label, _)] in rows] == [
        "✅ Send",
        "Change: Pain now",
        "Change: Side effects",
    ]
    assert Callback.decode(rows[0][0][1]) == Callback(Action.SEND, 12)
    assert Callback.decode(rows[2][0][1]) == Callback(Action.REVISE, 12, "side_effects")


def test_every_free_text_question_has_a_skip_button():
    optional = keyboards.text_keyboard(ENGLISH, 3, WORDS, can_go_back=False)
    assert optional == [[("Nothing to add", "n:3:report_words")]]
    required = keyboards.text_keyboard(ENGLISH, 3, replace(WORDS, optional=False), can_go_back=True)
    assert [label for [(label, _)] in required] == ["Skip this question", "↩ Change last answer"]
