"""Domain values of the credit graph: parties, links, records, provenance.

Everything the store holds is one of these immutable values (read-only for the type
checker, see :mod:`graph.value_class`). Each carries a validity interval
(``start``/``end``, either may be unknown) and a :class:`Source` saying which file, row and
ingest run it came from. Conclusions (who is punished, warnings,
relocation cases) are computed from these facts by ``queries/`` and never stored here.

Keys are strings with a short prefix so that an organisation code and a resident ID can
never collide (both are 18 characters):

* ``org:<USCC>``    an organisation with a valid unified social credit code
* ``per:<ID>``      a natural person with a valid resident ID
* ``unr:<hash>``    an unresolved party: masked ID, invalid code, no code, or a name only
* ``tel:<phone>``, ``eml:<e-mail>``, ``adr:<address>``  contact nodes shared by firms
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from graph.value_class import value_class


class PartyKind(StrEnum):
    """What sort of node a party is."""

    ENTERPRISE = "enterprise"
    INDIVIDUAL_BUSINESS = "individual_business"
    COOPERATIVE = "cooperative"
    SOCIAL_ORGANISATION = "social_organisation"
    PUBLIC_INSTITUTION = "public_institution"
    GOVERNMENT_AGENCY = "government_agency"
    PERSON = "person"
    UNRESOLVED = "unresolved"
    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "address"

    @property
    def is_organisation(self) -> bool:
        return self in ORGANISATION_KINDS

    @property
    def is_contact(self) -> bool:
        return self in (PartyKind.PHONE, PartyKind.EMAIL, PartyKind.ADDRESS)


ORGANISATION_KINDS = frozenset(
    {
        PartyKind.ENTERPRISE,
        PartyKind.INDIVIDUAL_BUSINESS,
        PartyKind.COOPERATIVE,
        PartyKind.SOCIAL_ORGANISATION,
        PartyKind.PUBLIC_INSTITUTION,
        PartyKind.GOVERNMENT_AGENCY,
    }
)


class LinkKind(StrEnum):
    """Kinds of link; labels and endpoint kinds live in :mod:`graph.schema`."""

    LEGAL_REPRESENTATIVE = "legal_representative"
    PRINCIPAL = "principal"
    ACTUAL_CONTROLLER = "actual_controller"
    BENEFICIAL_OWNER = "beneficial_owner"
    DIRECTOR = "director"
    SUPERVISOR = "supervisor"
    SENIOR_MANAGER = "senior_manager"
    SHAREHOLDER = "shareholder"
    BRANCH_OF = "branch_of"
    RESPONSIBLE_PRACTITIONER = "responsible_practitioner"
    SHARED_PHONE = "shared_phone"
    SHARED_EMAIL = "shared_email"
    SHARED_ADDRESS = "shared_address"


class RecordKind(StrEnum):
    """Kinds of record attached to a subject."""

    LIST_ENTRY = "list_entry"
    PENALTY = "penalty"
    COURT_DISHONEST = "court_dishonest"
    CHANGE = "change"
    REPAIR = "repair"
    OBJECTION = "objection"
    OBJECTION_RESOLUTION = "objection_resolution"
    # a later export of a list says an entry stored before was removed (移出日期, 移出原因):
    # kept as an action on that entry, since stored entries are never rewritten
    REMOVAL = "removal"


class Flag(StrEnum):
    """Data-quality flags carried by parties."""

    INVALID_CODE = "invalid_code"
    NO_CODE = "no_code"
    MASKED_ID = "masked_id"
    INVALID_ID = "invalid_id"
    NAME_ONLY = "name_only"


@value_class
class Source:
    """Where a fact came from: file (as named at ingest), 1-based data row, ingest run."""

    file: str
    row: int
    run: str


@value_class
class Party:
    """A node: organisation, person, unresolved party or shared contact."""

    key: str
    kind: PartyKind
    name: str
    code: str = ""  # identifier exactly as given (USCC, resident ID, masked ID, …)
    region: str = ""  # GB/T 2260 division code, when known
    start: dt.date | None = None  # established / first seen
    end: dt.date | None = None  # deregistered, revoked
    status: str = ""
    flags: frozenset[Flag] = frozenset()
    attrs: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    source: Source | None = None


@value_class
class NameFact:
    """A name a party carried during an interval (names change; history is kept)."""

    party: str
    name: str
    start: dt.date | None = None
    end: dt.date | None = None
    source: Source | None = None


@value_class
class Link:
    """An edge ``src -> dst`` of one kind, valid from ``start`` until ``end`` (exclusive)."""

    id: str
    kind: LinkKind
    src: str
    dst: str
    start: dt.date | None = None
    end: dt.date | None = None
    ratio: float | None = None  # shareholding / control ratio in [0, 1]
    amount: float | None = None  # subscribed amount in 万 (ten thousands) of ``currency`` (万元 when empty)
    title: str = ""  # role as written (董事长, 执行董事, …)
    source: Source | None = None
    currency: str = ""  # ISO code of the amount's currency when not renminbi (100万美元: 100, "USD")

    def active(self, as_of: dt.date | None) -> bool:
        """True when the link held on ``as_of`` (None: at any time, i.e. ever)."""
        return interval_contains(self.start, self.end, as_of)


@value_class
class Record:
    """A record about a subject: list entry, penalty, court entry, change, repair, objection.

    ``start``/``end`` is the period the record is in force as given by the source (a list
    entry from its listing until its period end or removal). Repairs and objections are
    records of their own that point at the record they act on with ``target``; their
    effect is computed in ``queries/``, so the history stays replayable.
    """

    id: str
    kind: RecordKind
    subject: str
    start: dt.date | None = None
    end: dt.date | None = None
    attrs: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    target: str = ""
    source: Source | None = None

    def active(self, as_of: dt.date | None) -> bool:
        """True when the record is in force on ``as_of`` as given by its source."""
        return interval_contains(self.start, self.end, as_of)


@value_class
class Rejection:
    """A row (or cell) that could not be used, and why."""

    file: str
    row: int
    column: str
    value: str
    reason: str
    run: str = ""


@value_class
class CodeObservation:
    """An identifier as it appeared in a file, kept for the quality report."""

    code: str  # exactly as in the file
    normalised: str
    name: str
    valid: bool
    kind: str  # "uscc" or "resident_id"
    source: Source | None = None


@value_class
class Alias:
    """An unresolved party found to be a known party (masked ID or name-only resolution)."""

    unresolved: str
    resolved: str
    reason: str


@dataclass(slots=True)
class Subgraph:
    """A neutral subgraph value: what neighbourhood queries return and pictures draw."""

    parties: dict[str, Party] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    distance: dict[str, int] = field(default_factory=dict)
    capped: set[str] = field(default_factory=set)  # high-degree nodes not expanded


def interval_contains(
    start: dt.date | None, end: dt.date | None, as_of: dt.date | None
) -> bool:
    """True when ``as_of`` lies in ``[start, end)``; unknown bounds are open."""
    if as_of is None:
        return True
    if start is not None and as_of < start:
        return False
    return not (end is not None and as_of >= end)
