"""Protocol loading: the bundled file carries SPEC's defaults; broken files name file and key."""

import pytest

from bot.core.durations import Duration
from bot.core.protocol import DEFAULT_PROTOCOL_PATH, ProtocolError, Severity, load_protocol

DEFAULT_TEXT = DEFAULT_PROTOCOL_PATH.read_text(encoding="utf-8")


def test_the_default_schedule_is_specs():
    protocol = load_protocol()
    schedule = {s.id: (s.offset, s.window) for s in protocol.steps}
    assert schedule == {
        "baseline": (None, Duration(seconds=7200)),
        "evening": (Duration(seconds=4 * 3600), Duration(seconds=4 * 3600)),
        "next_day": (Duration(seconds=24 * 3600), Duration(seconds=12 * 3600)),
        "day_3": (Duration(days=3), Duration(seconds=24 * 3600)),
        **{
            f"week_{w}": (Duration(days=7 * w), Duration(seconds=48 * 3600))
            for w in (1, 2, 3, 4, 6, 8)
        },
    }
    assert protocol.step("evening").reminder == Duration(seconds=2 * 3600)
    assert protocol.baseline_step.questions == (
        "pain_now",
        "pain_avg_24h",
        "sleep",
        "mood",
        "urine_liver",
    )
    assert protocol.texts["footer"] == (
        "Feeling very unwell? Call emergency services now; don't wait for this chat."
    )


def test_the_default_rules_cover_every_severity():
    rules = {r.id: r.severity for r in load_protocol().rules}
    assert len(rules) == 41
    assert [r for r, s in rules.items() if s is Severity.EMERGENCY] == [
        "chest_pain",
        "breathlessness",
        "face_throat_swelling",
        "fainting_or_unrousable",
        "confused_hard_to_wake",
        "seizure",
        "headache_sudden_severe",
        "headache_neuro_signs",
        "safety_high_risk",
        "words_suicide_self_harm",
        "words_overdose",
        "words_chest_pain",
        "words_breathing",
        "words_collapse_seizure",
    ]
    assert rules["missed_early_check_in"] is Severity.URGENT
    assert rules["two_missed"] is Severity.REVIEW


def broken(tmp_path, old, new):
    assert old in DEFAULT_TEXT, old
    path = tmp_path / "protocol.toml"
    path.write_text(DEFAULT_TEXT.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("[protocol]", "[protocl]", "protocl"),
        ("footer.en = ", "footr.en = ", "texts.footer.en"),
        ("Call {emergency_number} now, or", "Call {emergency} now, or", "texts.emergency.en"),
        (
            "Llame ahora al {emergency_number}, o pida",
            "Llame al {emergencia}",
            "texts.emergency.es",
        ),
        ('text.es = "Desde la infusión, su estado general está…"\n', "", "questions.pgic.text.es"),
        ('title.es = "Cuestionario de la tarde"\n', "", "steps[1] (evening).title.es"),
        (
            'es = "Muchísimo mejor"',
            'es = "Muchísimo mejor que antes de la infusión"',
            "questions.pgic.options[0].label.es",
        ),
        (
            "revisará sus respuestas el próximo día laborable",
            "de {clinic_name} revisará sus respuestas el próximo día laborable",
            "texts.review.es",
        ),
        ('languages = ["en", "es"]', 'languages = ["en", "es", "fr"]', "protocol.languages[2]"),
        (
            "{on_call_number}.\nIn an emergency, call {emergency_number} now.",
            "{on_call_number}.\nIn an emergency, call the on-call line {on_call_number}.",
            "texts.urgent.en",
        ),
        ('emergency_number = "112"', 'emergency_number = ""', "contacts.emergency_number"),
        (
            '{ value = "detached", label = { en = "Unreal or detached"',
            '{ value = "detached", label = { en = "Feeling unreal or detached from your body"',
            "questions.side_effects.options[0].label.en",
        ),
        ('\nwhen = "words"\npatient_text = "relayed"', '\nwhen = "missed"', "rules"),
        ('kind = "scale"', 'kind = "slider"', "questions.pain_now.kind"),
        (
            'kind = "choice"\nlabel.en = "Overall change (PGIC)"',
            'kind = "choice"\nlabel.en = "Overall change (PGIC)"\nmin = 0',
            "questions.pgic.min",
        ),
        ('window = "2h"', 'window = "2 hours"', "steps[0] (baseline).window"),
        ('reminder = "2h"', 'reminder = "5h"', "steps[1] (evening).reminder"),
        (
            'questions = ["pain_now", "pain_avg_24h", "sleep", "mood"',
            'questions = ["pain_now", "pain_avg_24h", "sleep", "happiness"',
            "steps[0] (baseline).questions[3]",
        ),
        (
            '"pain_now", "side_effects", "confused_hard_to_wake"',
            '"pain_now", "confused_hard_to_wake", "side_effects"',
            "steps[1] (evening).questions[1]",
        ),
        ('id = "evening"', 'id = "baseline"', "steps"),
        ('severity = "emergency"', 'severity = "critical"', "rules[0] (chest_pain).severity"),
        ('when = "missed"\n', 'when = "forgotten"\n', "rules[22] (missed_early_check_in).when"),
        ('any_of = ["chest_pain"]', 'any_of = ["heart_attack"]', "rules[0] (chest_pain)"),
        (
            'min_severity = "severe"',
            'min_severity = "awful"',
            "rules[10] (psychotomimetic_severe).min_severity",
        ),
        (
            'patient_text = "crisis"',
            'patient_text = "help"',
            "rules[9] (safety_ideation).patient_text",
        ),
        (
            'measure = "pain"\npoints = 3',
            'measure = "anxiety"\npoints = 3',
            "rules[20] (pain_much_worse).measure",
        ),
        ('steps = ["day_3"]', 'steps = ["day_4"]', "rules[23] (side_effect_day_3).steps[0]"),
        ('baseline = "mood"', 'baseline = "pain_now"', "measures.mood.baseline"),
    ],
)
def test_broken_files_name_the_key(tmp_path, old, new, key):
    path = broken(tmp_path, old, new)
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path)
    assert caught.value.key == key, str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_and_unparsable_files(tmp_path):
    with pytest.raises(ProtocolError, match="file not found"):
        load_protocol(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[protocol\nname = 1")
    with pytest.raises(ProtocolError, match="not valid TOML"):
        load_protocol(bad)
