"""ICAO 9303 machine-readable zones: parse and validate a TD1 ID card or a TD3 passport MRZ.

``parse_mrz(text)`` takes what a document reader sends (lines separated by CR and/or LF, or
one unbroken run of 90 / 88 characters) and returns a ``device.identity.IdentityDocument``
whose ``document_number`` is the number with its fillers removed. Every check digit is
verified — document number, date of birth, date of expiry, the optional/personal number where
the format has one, and the composite — and any failure raises ``IdDocumentError`` with a
``detail`` the operator reads ("the date of birth check digit is wrong"). Nothing here decides
eligibility: an expired document is reported in ``fields`` and left to the roll's policy.

Layouts (Doc 9303 part 5 for TD1, part 4 for TD3; 0-based column ranges):
- TD1, 3 x 30: line 1 = code 0-1, issuing state 2-4, document number 5-13, check 14, optional
  15-29 (a number longer than 9 characters continues here, with ``<`` at 14 and its check digit
  after its last character); line 2 = birth 0-5, check 6, sex 7, expiry 8-13, check 14,
  nationality 15-17, optional 18-28, composite 29 over line1[5:30] + line2[0:7] +
  line2[8:15] + line2[18:29]; line 3 = name.
- TD3, 2 x 44: line 1 = code 0-1, issuing state 2-4, name 5-43; line 2 = number 0-8, check 9,
  nationality 10-12, birth 13-18, check 19, sex 20, expiry 21-26, check 27, personal number
  28-41, check 42, composite 43 over line2[0:10] + line2[13:20] + line2[21:43].
"""
from __future__ import annotations

import re

from device.election.identity import IdDocumentError, IdentityDocument

_ALLOWED = re.compile(r"^[A-Z0-9<]+$")
_WEIGHTS = (7, 3, 1)
FORMATS = {"td1": (3, 30), "td3": (2, 44)}


def char_value(c: str) -> int:
    if c.isdigit():
        return ord(c) - 48
    if "A" <= c <= "Z":
        return ord(c) - 55
    if c == "<":
        return 0
    raise IdDocumentError(f"character {c!r} is not allowed in an MRZ")


def check_digit(field: str) -> str:
    """The ICAO 9303 check digit of ``field`` (weights 7, 3, 1 repeating; mod 10)."""
    return str(sum(char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(field)) % 10)


def _split_lines(text: str) -> list[str]:
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", text.strip()) if ln.strip()]
    if len(lines) == 1:  # some readers send the zone as one run of characters
        run = lines[0]
        for n, width in FORMATS.values():
            if len(run) == n * width:
                return [run[i * width:(i + 1) * width] for i in range(n)]
    return lines


def _verify(name: str, field: str, digit: str) -> None:
    if digit == "<" and set(field) <= {"<"}:
        return  # an empty optional field may carry a filler as its check digit
    if not digit.isdigit():
        raise IdDocumentError(f"the {name} check digit {digit!r} is not a digit")
    if check_digit(field) != digit:
        raise IdDocumentError(f"the {name} check digit is wrong")


def _date(name: str, value: str) -> str:
    if not value.isdigit():
        raise IdDocumentError(f"the {name} {value!r} is not a date (YYMMDD)")
    month, day = int(value[2:4]), int(value[4:6])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise IdDocumentError(f"the {name} {value!r} is not a valid date")
    return value


def _name(field: str) -> tuple[str, str]:
    surname, _, given = field.rstrip("<").partition("<<")
    return surname.replace("<", " ").strip(), given.replace("<", " ").strip()


def _document_number(raw: str, digit: str, optional: str) -> tuple[str, str]:
    """TD1 number: long numbers continue in the optional field (Doc 9303 part 5, 4.2.2)."""
    if digit == "<" and optional and optional[0] != "<":
        tail = optional.split("<", 1)[0]
        if len(tail) < 2:
            raise IdDocumentError("the long document number has no check digit")
        number, digit = raw + tail[:-1], tail[-1]
        _verify("document number", number, digit)
        return number, optional[len(tail):]
    _verify("document number", raw, digit)
    return raw, optional


def parse_mrz(text: str) -> IdentityDocument:
    """Parse and validate a TD1 or TD3 MRZ; raises ``IdDocumentError`` with an operator detail."""
    lines = _split_lines(text)
    shape = (len(lines), {len(ln) for ln in lines})
    kind = next((k for k, (n, w) in FORMATS.items() if shape == (n, {w})), None)
    if kind is None:
        widths = ", ".join(str(len(ln)) for ln in lines) or "none"
        raise IdDocumentError(
            f"the MRZ has {len(lines)} line(s) of {widths} characters; expected 3 x 30 "
            "(ID card) or 2 x 44 (passport) — the read may be truncated")
    for ln in lines:
        if not _ALLOWED.match(ln):
            bad = sorted(set(re.sub(r"[A-Z0-9<]", "", ln)))
            raise IdDocumentError(f"the MRZ contains characters that are not allowed: {''.join(bad)!r}")
    return _parse_td1(lines) if kind == "td1" else _parse_td3(lines)


def _common_fields(code: str, state: str, birth: str, sex: str, expiry: str,
                   nationality: str, name: str) -> dict[str, str]:
    if sex not in "MFX<":
        raise IdDocumentError(f"the sex field {sex!r} is not M, F, X or <")
    surname, given = _name(name)
    if not surname:
        raise IdDocumentError("the MRZ has no surname")
    return {"document_code": code.rstrip("<"), "issuing_state": state.rstrip("<"),
            "birth_date": _date("date of birth", birth), "sex": sex.replace("<", "X"),
            "expiry_date": _date("date of expiry", expiry),
            "nationality": nationality.rstrip("<"), "surname": surname, "given_names": given}


def _parse_td1(lines: list[str]) -> IdentityDocument:
    l1, l2, l3 = lines
    if l1[0] not in "ACI":
        raise IdDocumentError(f"a 3-line MRZ must be an ID card (code A, C or I), not {l1[0]!r}")
    number, optional1 = _document_number(l1[5:14], l1[14], l1[15:30])
    _verify("date of birth", l2[0:6], l2[6])
    _verify("date of expiry", l2[8:14], l2[14])
    _verify("composite", l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])
    fields = _common_fields(l1[0:2], l1[2:5], l2[0:6], l2[7], l2[8:14], l2[15:18], l3)
    fields["optional_data"] = (optional1 + l2[18:29]).replace("<", "")
    return _document(number, "td1", fields)


def _parse_td3(lines: list[str]) -> IdentityDocument:
    l1, l2 = lines
    if l1[0] != "P":
        raise IdDocumentError(f"a 2 x 44 MRZ must be a passport (code P), not {l1[0]!r}")
    _verify("document number", l2[0:9], l2[9])
    _verify("date of birth", l2[13:19], l2[19])
    _verify("date of expiry", l2[21:27], l2[27])
    _verify("personal number", l2[28:42], l2[42])
    _verify("composite", l2[0:10] + l2[13:20] + l2[21:43], l2[43])
    fields = _common_fields(l1[0:2], l1[2:5], l2[13:19], l2[20], l2[21:27], l2[10:13], l1[5:44])
    fields["personal_number"] = l2[28:42].replace("<", "")
    return _document(l2[0:9], "td3", fields)


def _document(raw_number: str, kind: str, fields: dict[str, str]) -> IdentityDocument:
    number = raw_number.replace("<", "")
    if not number:
        raise IdDocumentError("the MRZ has no document number")
    return IdentityDocument(number, kind, fields)


def format_td1(number: str, state: str, birth: str, sex: str, expiry: str, nationality: str,
               surname: str, given: str, optional: str = "") -> str:
    """Build a valid TD1 MRZ (used to print synthetic ID cards); numbers of up to 9 characters."""
    num = number.ljust(9, "<")[:9]
    l1 = f"I<{state:<<3}{num}{check_digit(num)}{optional:<<15}"[:30]
    head = f"{birth}{check_digit(birth)}{sex}{expiry}{check_digit(expiry)}{nationality:<<3}"
    body = "<" * 11
    l2 = head + body
    l2 += check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    name = (surname.replace(" ", "<") + "<<" + given.replace(" ", "<")).ljust(30, "<")[:30]
    return "\n".join((l1, l2, name))


def format_td3(number: str, state: str, birth: str, sex: str, expiry: str, nationality: str,
               surname: str, given: str, personal: str = "") -> str:
    """Build a valid TD3 (passport) MRZ."""
    name = (surname.replace(" ", "<") + "<<" + given.replace(" ", "<")).ljust(39, "<")[:39]
    l1 = f"P<{state:<<3}{name}"
    num = number.ljust(9, "<")[:9]
    pers = personal.ljust(14, "<")[:14]
    l2 = (f"{num}{check_digit(num)}{nationality:<<3}{birth}{check_digit(birth)}{sex}"
          f"{expiry}{check_digit(expiry)}{pers}{check_digit(pers)}")
    l2 += check_digit(l2[0:10] + l2[13:20] + l2[21:43])
    return "\n".join((l1, l2))
