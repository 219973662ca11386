"""Identity documents: turn a raw ID-reader record into a validated document number.

Two kinds of record reach the unit (see ``hardware.interfaces.IdRecord``):
- ``barcode``: a voter card's barcode (Code 128 or QR) carrying ``BBX1|<document number>``;
- ``mrz``: the machine-readable zone of an ICAO 9303 document (TD1 ID card, 3 x 30; TD3
  passport, 2 x 44), validated with its check digits.

``parse_id_record`` returns an ``IdentityDocument`` or raises ``IdDocumentError`` whose
``detail`` is shown to the operator; a bad record never checks anybody in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from device.quick_init import quick_init
from hardware.interfaces import IdRecord

BARCODE_PREFIX = "BBX1|"
_DOC_NUMBER = re.compile(r"^[A-Z0-9]{1,20}$")


class IdDocumentError(ValueError):
    def __init__(self, detail: str):
        self.detail = detail
        super().__init__(detail)


@quick_init
@dataclass(frozen=True)
class IdentityDocument:
    document_number: str
    kind: str  # 'voter-card', 'td1', 'td3'
    fields: dict[str, str] = field(default_factory=dict, compare=False)


def barcode_payload(document_number: str) -> str:
    """The payload printed on a voter card for ``document_number``."""
    return BARCODE_PREFIX + document_number


def parse_barcode(payload: str) -> IdentityDocument:
    if not payload.startswith(BARCODE_PREFIX):
        raise IdDocumentError("the barcode is not a voter card")
    number = payload[len(BARCODE_PREFIX):].strip()
    if not _DOC_NUMBER.match(number):
        raise IdDocumentError("the voter card's document number is malformed")
    return IdentityDocument(number, "voter-card")


def parse_id_record(record: IdRecord) -> IdentityDocument:
    if record.kind == "barcode":
        return parse_barcode(record.payload)
    if record.kind == "mrz":
        from device.election.mrz import parse_mrz  # ICAO 9303 parsing with check digits
        return parse_mrz(record.payload)
    raise IdDocumentError(f"unknown document record kind {record.kind!r}")
