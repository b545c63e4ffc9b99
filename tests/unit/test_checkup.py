"""Setup warnings: what `check` and the start-up message tell an operator to fix."""

from pathlib import Path

from bot.checkup import configuration_warnings
from bot.config import load_settings
from bot.core.protocol import load_protocol
from tests.utils.protocols import approved_protocol

BUNDLED = load_protocol()


def settings(**env: str):
    return load_settings(env, require_token=False)


def test_a_signed_protocol_with_contacts_and_someone_to_alert_has_no_warnings(tmp_path: Path):
    protocol = load_protocol(approved_protocol(tmp_path))
    assert configuration_warnings(settings(ADMIN_TELEGRAM_IDS="1"), protocol) == []
    assert configuration_warnings(settings(STAFF_ALERT_CHAT_ID="-100"), protocol) == []
    assert configuration_warnings(settings(), protocol, staff_members=2) == []


def test_the_bundled_protocol_warns_until_signed_and_its_contacts_are_set():
    warnings = configuration_warnings(settings(ADMIN_TELEGRAM_IDS="1"), BUNDLED)
    assert len(warnings) == 3
    assert "not approved" in warnings[0]
    assert "on-call number is not set" in warnings[1] and "112 instead" in warnings[1]
    assert "crisis line is not set" in warnings[2]


def test_nobody_to_receive_alerts_is_a_warning(tmp_path: Path):
    protocol = load_protocol(approved_protocol(tmp_path))
    [warning] = configuration_warnings(settings(), protocol, staff_members=0)
    assert "nobody receives alerts" in warning


def test_a_line_naming_an_unset_contact_is_left_out_and_the_emergency_number_stays(
    tmp_path: Path,
):
    assert BUNDLED.text("urgent") == (
        "The clinic team will contact you today.\n"
        "In an emergency, call 112 now.\n"
        "Thank you for telling us."
    )
    signed = load_protocol(approved_protocol(tmp_path))
    assert "on-call line: +34 600 000 111" in signed.text("urgent")
    for key in ("emergency", "urgent", "crisis", "suicide_risk", "relayed"):
        assert "112" in BUNDLED.text(key) and "{" not in BUNDLED.text(key)
