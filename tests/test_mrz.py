"""ICAO 9303 MRZ parsing against the specimen documents of Doc 9303 parts 4 and 5."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from device.election.identity import IdDocumentError, parse_id_record
from device.election.mrz import char_value, check_digit, format_td1, format_td3, parse_mrz
from hardware.interfaces import IdRecord

# Doc 9303 part 5, appendix A (TD1 specimen) and part 4, appendix A (TD3 specimen).
TD1_SPECIMEN = ("I<UTOD231458907<<<<<<<<<<<<<<<\n"
                "7408122F1204159UTO<<<<<<<<<<<6\n"
                "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
TD3_SPECIMEN = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
                "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


def test_check_digit_published_examples():
    assert check_digit("D23145890") == "7"
    assert check_digit("L898902C3") == "6"
    assert check_digit("740812") == "2"
    assert check_digit("120415") == "9"
    assert check_digit("ZE184226B<<<<<") == "1"


def test_td1_specimen():
    doc = parse_mrz(TD1_SPECIMEN)
    assert doc.kind == "td1" and doc.document_number == "D23145890"
    assert doc.fields["surname"] == "ERIKSSON" and doc.fields["given_names"] == "ANNA MARIA"
    assert doc.fields["birth_date"] == "740812" and doc.fields["expiry_date"] == "120415"
    assert doc.fields["sex"] == "F" and doc.fields["nationality"] == "UTO"


def test_td3_specimen():
    doc = parse_mrz(TD3_SPECIMEN)
    assert doc.kind == "td3" and doc.document_number == "L898902C3"
    assert doc.fields["personal_number"] == "ZE184226B"
    assert doc.fields["issuing_state"] == "UTO"


@pytest.mark.parametrize("text", [TD1_SPECIMEN.replace("\n", "\r"), TD1_SPECIMEN.replace("\n", ""),
                                  "  " + TD3_SPECIMEN.replace("\n", "\r\n") + "\r\n"])
def test_line_separators_and_single_run(text):
    assert parse_mrz(text).document_number in ("D23145890", "L898902C3")


def test_long_document_number_td1():
    # Doc 9303 part 5: numbers over 9 characters continue in the optional data field.
    number = "D23145890123"
    l1 = f"I<UTO{number[:9]}<{number[9:]}{check_digit(number)}".ljust(30, "<")
    l2 = "7408122F1204159UTO<<<<<<<<<<<"
    l2 += check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    doc = parse_mrz("\n".join((l1, l2, "ERIKSSON<<ANNA".ljust(30, "<"))))
    assert doc.document_number == number


@pytest.mark.parametrize("text, words", [
    (TD1_SPECIMEN.replace("D231458907", "D231458908"), "document number check digit"),
    (TD1_SPECIMEN.replace("7408122F", "7408123F"), "date of birth check digit"),
    (TD3_SPECIMEN.replace("1204159ZE", "1204158ZE"), "date of expiry check digit"),
    (TD3_SPECIMEN[:-1] + "1", "composite check digit"),
    (TD3_SPECIMEN.replace("ZE184226B", "ZE184226C"), "personal number check digit"),
    (TD1_SPECIMEN[:50], "expected 3 x 30"),
    ("", "expected 3 x 30"),
    (TD1_SPECIMEN.replace("ERIKSSON", "eriksson"), "not allowed"),
    ("\x00\xff garbage", "expected"),
])
def test_refusals_name_what_is_wrong(text, words):
    with pytest.raises(IdDocumentError) as err:
        parse_mrz(text)
    assert words in err.value.detail


def test_parse_id_record_dispatches_to_mrz():
    assert parse_id_record(IdRecord("mrz", TD3_SPECIMEN)).document_number == "L898902C3"


def test_format_round_trips_specimens():
    assert format_td3("L898902C3", "UTO", "740812", "F", "120415", "UTO", "ERIKSSON", "ANNA MARIA",
                      "ZE184226B") == TD3_SPECIMEN
    assert format_td1("D23145890", "UTO", "740812", "F", "120415", "UTO", "ERIKSSON",
                      "ANNA MARIA") == TD1_SPECIMEN


ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"


# Columns (in the zone read as one run) that some check digit covers.
CHECKED = {
    "td1": list(range(5, 30)) + list(range(30, 37)) + list(range(38, 45)) + list(range(48, 60)),
    "td3": list(range(44, 54)) + list(range(57, 64)) + list(range(65, 88)),
}


@pytest.mark.parametrize("kind, specimen", [("td1", TD1_SPECIMEN), ("td3", TD3_SPECIMEN)])
def test_every_single_changed_character_in_a_checked_field_is_caught(kind, specimen):
    """Exhaustive over positions and characters. ICAO's 7-3-1 scheme is blind only to swapping
    two characters whose values are congruent mod 10 ('<' and '0', 'A' and '0', ...)."""
    flat = specimen.replace("\n", "")
    width = len(specimen.split("\n")[0])
    missed = []
    for i in CHECKED[kind]:
        for new in ALPHABET:
            if new == flat[i]:
                continue
            changed = flat[:i] + new + flat[i + 1:]
            try:
                parse_mrz("\n".join(changed[k:k + width] for k in range(0, len(changed), width)))
            except IdDocumentError:
                continue
            missed.append((i, flat[i], new))
    assert all(char_value(old) % 10 == char_value(new) % 10 for _, old, new in missed), missed


@settings(max_examples=200, deadline=None)
@given(number=st.text(ALPHABET[:36], min_size=1, max_size=9),
       birth=st.dates().map(lambda d: d.strftime("%y%m%d")),
       expiry=st.dates().map(lambda d: d.strftime("%y%m%d")),
       sex=st.sampled_from("MFX"), passport=st.booleans())
def test_formatted_documents_parse_back(number, birth, expiry, sex, passport):
    fmt = format_td3 if passport else format_td1
    text = fmt(number, "UTO", birth, sex, expiry, "UTO", "DOE", "JANE")
    doc = parse_mrz(text)
    assert doc.document_number == number and doc.fields["birth_date"] == birth
