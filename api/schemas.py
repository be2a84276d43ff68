"""Pydantic models of the HTTP API (the only place pydantic is used), each field with an example.

The hot risk endpoints serialise their answers with orjson straight from the query results
and declare these models for the OpenAPI document only; the other endpoints validate through
them as usual.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

USCC_EX = "91410105MA44XKTX77"
ORG_EX = "org:91410105MA44XKTX77"
PER_EX = "per:410105197506010011"
PER_MASKED_EX = "per:4101**********0011"
DAY_EX = dt.date(2025, 6, 30)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(_Model):
    """Every error of the API: what kind, what was wrong, which field."""

    code: str = Field(examples=["InvalidInput"], description="error class: NotFound, InvalidInput, Unauthorized, …")
    message: str = Field(examples=["hops must be between 0 and 6"])
    field: str = Field(examples=["hops"], description="the input field at fault, empty when none")


# -- risk --------------------------------------------------------------------------------------
class PathNodeOut(_Model):
    """A party on a warning path."""

    key: str = Field(examples=[ORG_EX])
    name: str = Field(examples=["郑州市鑫源商贸有限公司"])
    kind: str = Field(examples=["企业"])


class PathStepOut(_Model):
    """One link of a path, both ends named."""

    link_id: str = Field(examples=["5f0c1e2d3a4b5c6d7e8f"])
    kind: str = Field(examples=["legal_representative"])
    label_zh: str = Field(examples=["法定代表人"])
    title: str = Field(examples=["执行董事兼总经理"])
    src: str = Field(examples=[PER_EX])
    src_name: str = Field(examples=["张伟"])
    dst: str = Field(examples=[ORG_EX])
    dst_name: str = Field(examples=["郑州市鑫源商贸有限公司"])
    start: dt.date | None = Field(examples=[dt.date(2016, 1, 1)])
    end: dt.date | None = Field(examples=[None])
    ratio: float | None = Field(default=None, examples=[0.6])


class SourceRefOut(_Model):
    """A record a warning rests on."""

    record_id: str = Field(examples=["0a1b2c3d4e5f60718293"])
    kind: str = Field(examples=["list_entry"])
    list_type: str = Field(examples=["严重失信主体名单"])
    decision_no: str = Field(examples=["郑发改信〔2021〕7号"])
    authority: str = Field(examples=["郑州市发展和改革委员会"])
    start: dt.date | None = Field(examples=[dt.date(2021, 6, 1)])
    status: str = Field(default="", examples=["生效"])


class WarningOut(_Model):
    """One graded warning with its path and sources."""

    code: str = Field(examples=["R010"], description="R001 own black-list entry … R020 red/black conflict")
    level: Literal["高", "中", "低"] = Field(examples=["高"])
    message: str = Field(examples=["2度关联:鑫源商贸—法定代表人—张伟—董事—黑名单商贸;黑名单商贸被列入严重失信主体名单"])
    strength: float = Field(examples=[0.51])
    hops: int = Field(examples=[2])
    counterpart: str = Field(examples=["org:91410105MA44XKT154"])
    nodes: list[PathNodeOut] = Field(examples=[[]])
    links: list[PathStepOut] = Field(examples=[[]])
    sources: list[SourceRefOut] = Field(examples=[[]])
    notes: list[str] = Field(examples=[["经高连接度节点…(关联120个主体)关联,已降权"]])


class RiskReportOut(_Model):
    """The risk check of one firm or person: warnings, grade A–D and sampling ratio."""

    key: str = Field(examples=[ORG_EX])
    name: str = Field(examples=["郑州市鑫源商贸有限公司"])
    kind: str = Field(examples=["enterprise"])
    as_of: dt.date = Field(examples=[DAY_EX])
    hops: int = Field(examples=[3])
    grade: Literal["A", "B", "C", "D"] = Field(examples=["C"])
    sampling_ratio: float = Field(examples=[0.1], description="双随机、一公开 sampling ratio for the grade")
    warnings: list[WarningOut] = Field(examples=[[]])
    records: list[SourceRefOut] = Field(examples=[[]])
    red_listed: bool = Field(examples=[False])
    method: str = Field(examples=["index"])
    capped: list[str] = Field(examples=[[]], description="high-degree nodes not passed through")
    behind: int = Field(0, examples=[0], description="store changes not reflected yet: answered from the risk index "
                        "of the state just before a change of records, while the new one is built (seconds)")


class CheckItemIn(_Model):
    """One party to check: a key (USCC, resident ID, party key), or a name with a code."""

    key: str | None = Field(default=None, max_length=200, examples=[USCC_EX])
    name: str | None = Field(default=None, max_length=200, examples=["郑州市鑫源商贸有限公司"])
    code: str | None = Field(default=None, max_length=64, examples=[USCC_EX])

    @model_validator(mode="after")
    def _one_way(self) -> CheckItemIn:
        if not (self.key or self.code or self.name):
            raise ValueError("give key, or code (with name), or name")
        return self


class CheckIn(_Model):
    """A batch check: up to 1,000 parties, one date, one depth."""

    items: list[CheckItemIn] = Field(min_length=1, max_length=1000,
                                     examples=[[{"key": USCC_EX}, {"name": "郑州市鑫源商贸有限公司", "code": USCC_EX}]])
    as_of: dt.date | None = Field(default=None, examples=[DAY_EX])
    hops: int = Field(default=3, ge=0, le=6, examples=[3])


class CheckItemOut(_Model):
    """The outcome for one item: a report, or the error that item met."""

    index: int = Field(examples=[0])
    input: CheckItemIn = Field(examples=[{"key": USCC_EX}])
    ok: bool = Field(examples=[True])
    report: RiskReportOut | None = Field(default=None, examples=[None])
    error: ErrorOut | None = Field(default=None, examples=[None])
    notes: list[str] = Field(default_factory=list, examples=[["名称与代码登记名称不一致"]])


class CheckOut(_Model):
    """Per-item results of a batch check."""

    as_of: dt.date = Field(examples=[DAY_EX])
    hops: int = Field(examples=[3])
    count: int = Field(examples=[2])
    ok: int = Field(examples=[1])
    failed: int = Field(examples=[1])
    results: list[CheckItemOut] = Field(examples=[[]])


# -- parties -----------------------------------------------------------------------------------
class PartyOut(_Model):
    """A party as stored."""

    key: str = Field(examples=[ORG_EX])
    kind: str = Field(examples=["enterprise"])
    kind_zh: str = Field(examples=["企业"])
    name: str = Field(examples=["郑州市鑫源商贸有限公司"])
    code: str = Field(examples=[USCC_EX])
    region: str = Field(examples=["410105"])
    start: dt.date | None = Field(examples=[dt.date(2010, 1, 1)])
    end: dt.date | None = Field(examples=[None])
    status: str = Field(examples=["存续"])
    flags: list[str] = Field(examples=[[]])


class NameOut(_Model):
    """A name a party carried during an interval."""

    name: str = Field(examples=["郑州市鑫源商贸有限公司"])
    start: dt.date | None = Field(examples=[dt.date(2010, 1, 1)])
    end: dt.date | None = Field(examples=[None])


class RoleOut(_Model):
    """A role held (a link) over an interval."""

    link_id: str = Field(examples=["5f0c1e2d3a4b5c6d7e8f"])
    kind: str = Field(examples=["legal_representative"])
    label_zh: str = Field(examples=["法定代表人"])
    title: str = Field(examples=["执行董事"])
    holder: str = Field(examples=[PER_EX])
    holder_name: str = Field(examples=["张伟"])
    firm: str = Field(examples=[ORG_EX])
    firm_name: str = Field(examples=["郑州市鑫源商贸有限公司"])
    start: dt.date | None = Field(examples=[dt.date(2016, 1, 1)])
    end: dt.date | None = Field(examples=[None])
    current: bool = Field(examples=[True])
    ratio: float | None = Field(default=None, examples=[0.6])
    amount: float | None = Field(default=None, examples=[100.0],
                                 description="subscribed amount in 万 (ten thousands) of `currency`")
    currency: str = Field(default="", examples=[""],
                          description="ISO code of the amount's currency; empty for renminbi (万元)")


class RecordOut(_Model):
    """A record (list entry, penalty, court entry, repair, objection …) with its effective status."""

    id: str = Field(examples=["0a1b2c3d4e5f60718293"])
    kind: str = Field(examples=["list_entry"])
    subject: str = Field(examples=[ORG_EX])
    start: dt.date | None = Field(examples=[dt.date(2021, 6, 1)])
    end: dt.date | None = Field(examples=[None])
    target: str = Field(examples=[""])
    state: str = Field(default="", examples=["active"])
    state_zh: str = Field(default="", examples=["生效"])
    reason: str = Field(default="", examples=["2021-06-01 列入,生效中"])
    attrs: dict[str, Any] = Field(examples=[{"list_type": "严重失信主体名单", "decision_no": "郑发改信〔2021〕7号"}])


class SubjectOut(_Model):
    """Profile of an organisation: roles now and before, holdings, records, grade."""

    party: PartyOut
    as_of: dt.date = Field(examples=[DAY_EX])
    names: list[NameOut] = Field(examples=[[]])
    roles_current: list[RoleOut] = Field(examples=[[]], description="who holds a role in this firm on as_of")
    roles_history: list[RoleOut] = Field(examples=[[]], description="roles held in this firm that ended")
    holdings: list[RoleOut] = Field(examples=[[]], description="roles this organisation holds in others (对外投资)")
    contacts: list[RoleOut] = Field(examples=[[]], description="phones, e-mails and addresses")
    records: list[RecordOut] = Field(examples=[[]])
    grade: str = Field(examples=["B"])
    sampling_ratio: float = Field(examples=[0.05])
    warnings: list[WarningOut] = Field(examples=[[]])


class PunishmentOut(_Model):
    """A joint-punishment measure a party is under, and why."""

    person: str = Field(examples=[PER_EX])
    person_name: str = Field(examples=["张伟"])
    firm: str = Field(examples=[ORG_EX])
    firm_name: str = Field(examples=["郑州市黑名单商贸有限公司"])
    role: str = Field(examples=["legal_representative"])
    role_zh: str = Field(examples=["法定代表人"])
    measure_code: str = Field(examples=["M01"])
    measure_name: str = Field(examples=["限制担任法定代表人"])
    mandatory: bool = Field(examples=[True])
    market_ban: bool = Field(examples=[True])
    entry_id: str = Field(examples=["0a1b2c3d4e5f60718293"])
    list_type: str = Field(examples=["严重失信主体名单"])
    decision_no: str = Field(examples=["郑发改信〔2021〕7号"])
    start: dt.date | None = Field(examples=[dt.date(2021, 6, 1)])
    end: dt.date | None = Field(examples=[None], description=(
        "the first day the measure no longer applies (a list's 有效期至 2026-05-31 gives 2026-06-01); "
        "null: as long as the listing stands"))
    end_reason: str = Field(examples=[""])
    basis: str = Field(examples=["《关于对失信主体实施联合惩戒的合作备忘录》"])
    counted_on: dt.date | None = Field(examples=[dt.date(2020, 3, 5)])
    active: bool = Field(examples=[True])
    path: list[PathStepOut] = Field(examples=[[]])
    flags: list[str] = Field(examples=[[]])


class PersonOut(_Model):
    """Profile of a natural person: roles over time, punishment record, own records."""

    party: PartyOut
    as_of: dt.date = Field(examples=[DAY_EX])
    names: list[NameOut] = Field(examples=[[]])
    roles: list[RoleOut] = Field(examples=[[]])
    punishments: list[PunishmentOut] = Field(examples=[[]])
    records: list[RecordOut] = Field(examples=[[]])


class PunishedPersonOut(_Model):
    """One person under joint punishment with the measures."""

    key: str = Field(examples=[PER_EX])
    person_id: str = Field(examples=["410105197506010011"])
    name: str = Field(examples=["张伟"])
    flags: list[str] = Field(examples=[[]])
    measures: list[PunishmentOut] = Field(examples=[[]])


class PunishedOut(_Model):
    """People under joint punishment on a date (one page)."""

    as_of: dt.date = Field(examples=[DAY_EX])
    total: int = Field(examples=[120])
    offset: int = Field(examples=[0])
    limit: int = Field(examples=[100])
    items: list[PunishedPersonOut] = Field(examples=[[]])


# -- graph and paths ---------------------------------------------------------------------------
class GraphNodeOut(_Model):
    """A node for the browser graph."""

    id: str = Field(examples=[ORG_EX])
    kind: str = Field(examples=["enterprise"])
    kind_zh: str = Field(examples=["企业"])
    label: str = Field(examples=["郑州市鑫源商贸有限公司"])
    code: str = Field(examples=[USCC_EX])
    region: str = Field(examples=["410105"])
    distance: int = Field(examples=[0])
    capped: bool = Field(examples=[False], description="a high-degree node that was not expanded")
    flags: list[str] = Field(examples=[[]])
    start: dt.date | None = Field(examples=[dt.date(2010, 1, 1)])
    end: dt.date | None = Field(examples=[None])


class GraphLinkOut(_Model):
    """A link for the browser graph: source is label_en of target."""

    id: str = Field(examples=["5f0c1e2d3a4b5c6d7e8f"])
    source: str = Field(examples=[PER_EX])
    target: str = Field(examples=[ORG_EX])
    kind: str = Field(examples=["legal_representative"])
    label_zh: str = Field(examples=["法定代表人"])
    label_en: str = Field(examples=["legal representative"])
    title: str = Field(examples=["执行董事"])
    start: dt.date | None = Field(examples=[dt.date(2016, 1, 1)])
    end: dt.date | None = Field(examples=[None])
    ratio: float | None = Field(default=None, examples=[None])


class GraphOut(_Model):
    """The neighbourhood of a party as nodes and links."""

    center: str = Field(examples=[ORG_EX])
    as_of: dt.date | None = Field(examples=[DAY_EX])
    hops: int = Field(examples=[2])
    hops_shown: int = Field(examples=[2], description="hops fully shown before the node cap was reached")
    truncated: bool = Field(examples=[False])
    capped: list[str] = Field(examples=[[]])
    nodes: list[GraphNodeOut] = Field(examples=[[]])
    links: list[GraphLinkOut] = Field(examples=[[]])


class PathOut(_Model):
    """One relationship path; ``steps[i]`` lists every link between nodes i and i+1."""

    length: int = Field(examples=[2])
    nodes: list[PathNodeOut] = Field(examples=[[]])
    steps: list[list[GraphLinkOut]] = Field(examples=[[]])


class PathsOut(_Model):
    """Relationship paths between two parties."""

    source: str = Field(examples=[ORG_EX])
    target: str = Field(examples=["org:91410105MA44XKT154"])
    as_of: dt.date | None = Field(examples=[DAY_EX])
    max_hops: int = Field(examples=[4])
    shortest: int | None = Field(examples=[2], description="length of the shortest path, null when none")
    paths: list[PathOut] = Field(examples=[[]])
    truncated: bool = Field(examples=[False])
    capped: list[str] = Field(examples=[[]])


# -- relocations -------------------------------------------------------------------------------
class RelocationsOut(_Model):
    """Relocation cases (易地开张) found since a date."""

    model_config = ConfigDict(extra="allow")

    since: dt.date | None = Field(examples=[dt.date(2024, 1, 1)])
    total: int = Field(examples=[1])
    items: list[dict[str, Any]] = Field(examples=[[{"old": ORG_EX, "new": "org:91350602MA2DNMA017", "score": 0.92}]])


# -- repair and objections ---------------------------------------------------------------------
class RepairIn(_Model):
    """An approved credit repair."""

    date: dt.date = Field(examples=[dt.date(2025, 3, 1)])
    by: str = Field(min_length=1, max_length=200, examples=["郑州市发展和改革委员会"])
    note: str = Field(default="", max_length=2000, examples=["已履行法定义务并公开承诺"])


class ObjectionIn(_Model):
    """An objection filed by the subject."""

    date: dt.date = Field(examples=[dt.date(2025, 3, 1)])
    claim: str = Field(min_length=1, max_length=2000, examples=["该处罚已被复议决定撤销"])


class ResolutionIn(_Model):
    """The decision on an objection."""

    date: dt.date = Field(examples=[dt.date(2025, 4, 1)])
    outcome: Literal["upheld", "rejected"] = Field(examples=["upheld"])
    note: str = Field(default="", max_length=2000, examples=["经核实,原认定有误"])


class ActionOut(_Model):
    """The record written and the target entry's status after it."""

    record: RecordOut
    entry: RecordOut


# -- ingest ------------------------------------------------------------------------------------
class RejectionOut(_Model):
    """A rejected row (or cell)."""

    file: str = Field(examples=["registrations.csv"])
    row: int = Field(examples=[12])
    column: str = Field(examples=["统一社会信用代码"])
    value: str = Field(examples=["91410105MA44XKTX0Z"])
    reason: str = Field(examples=["校验码应为 B (check character should be B)"])


class IngestOut(_Model):
    """What an upload's ingest did, and every rejected row."""

    summary: dict[str, Any] = Field(examples=[{"run_id": "20250630T101500-ab12cd", "rows": 990, "loaded": 985,
                                               "rejected": 5}])
    rejections: list[RejectionOut] = Field(examples=[[]])


# -- audit -------------------------------------------------------------------------------------
class AuditRowOut(_Model):
    """One audit row."""

    id: int = Field(examples=[1])
    at: str = Field(examples=["2025-06-30T02:15:00.123+00:00"])
    who: str = Field(examples=["a1b2c3d4e5f6"])
    who_name: str = Field(examples=["审批系统"])
    role: str = Field(examples=["supervision_system"])
    ip: str = Field(examples=["127.0.0.1"])
    method: str = Field(examples=["GET"])
    endpoint: str = Field(examples=["/api/v1/risk/{key}"])
    path: str = Field(examples=["/api/v1/risk/91410105MA44XKTX77?hops=3"])
    key: str = Field(examples=[ORG_EX])
    status: int = Field(examples=[200])
    action: str = Field(examples=["read"])


class AuditOut(_Model):
    """Audit rows, newest first."""

    total: int = Field(examples=[1])
    items: list[AuditRowOut] = Field(examples=[[]])


# -- webhooks ----------------------------------------------------------------------------------
class WebhookIn(_Model):
    """A subscription: POSTs to ``url`` for new warnings of these keys or regions."""

    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://[^\s]+$",
                     examples=["https://approval.example.gov.cn/hooks/creditgraph"])
    keys: list[str] = Field(default_factory=list, max_length=1000, examples=[[USCC_EX]])
    regions: list[str] = Field(default_factory=list, max_length=100,
                               examples=[["4101"]], description="division code prefixes (GB/T 2260)")
    events: list[Literal["warning", "relocation"]] = Field(default=["warning", "relocation"],
                                                           examples=[["warning", "relocation"]])
    secret: str | None = Field(default=None, min_length=16, max_length=200,
                               examples=["s3cr3t-s3cr3t-s3cr3t"], description="HMAC key; generated when not given")

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        for r in value:
            if not (r.isascii() and r.isdigit() and 2 <= len(r) <= 6):
                raise ValueError(f"region {r!r} must be 2 to 6 digits of a GB/T 2260 division code")
        return value

    @model_validator(mode="after")
    def _something(self) -> WebhookIn:
        if not self.keys and not self.regions:
            raise ValueError("subscribe to at least one key or region")
        return self


class WebhookOut(_Model):
    """A subscription (the secret is shown only when it was created)."""

    id: str = Field(examples=["wh_3f2a1b0c9d8e"])
    owner: str = Field(examples=["a1b2c3d4e5f6"])
    url: str = Field(examples=["https://approval.example.gov.cn/hooks/creditgraph"])
    keys: list[str] = Field(examples=[[ORG_EX]])
    regions: list[str] = Field(examples=[["4101"]])
    events: list[str] = Field(examples=[["warning", "relocation"]])
    created: str = Field(examples=["2025-06-30T02:15:00.123+00:00"])
    secret: str | None = Field(default=None, examples=["s3cr3t-s3cr3t-s3cr3t"])


class WebhookListOut(_Model):
    """Subscriptions."""

    items: list[WebhookOut] = Field(examples=[[]])


class DeliveryOut(_Model):
    """One delivery and how its attempts went."""

    id: str = Field(examples=["dl_0a1b2c3d4e5f"])
    webhook: str = Field(examples=["wh_3f2a1b0c9d8e"])
    event: str = Field(examples=["warning"])
    status: str = Field(examples=["delivered"], description="pending, delivered or failed")
    attempts: int = Field(examples=[2])
    last_status: int | None = Field(examples=[200])
    last_error: str = Field(examples=["HTTP 503"])
    created: str = Field(examples=["2025-06-30T02:15:00.123+00:00"])
    delivered: str | None = Field(examples=["2025-06-30T02:15:05.456+00:00"])


class DeliveryListOut(_Model):
    """Deliveries of a subscription, newest first."""

    items: list[DeliveryOut] = Field(examples=[[]])


class KeyOut(_Model):
    """An API key as listed (never the secret)."""

    id: str = Field(examples=["a1b2c3d4e5f6"])
    name: str = Field(examples=["审批系统"])
    role: str = Field(examples=["supervision_system"])
    created: str = Field(examples=["2025-06-30T02:15:00.123+00:00"])
    revoked: str | None = Field(examples=[None])


class HealthOut(_Model):
    """Liveness and the store's counts."""

    status: str = Field(examples=["ok"])
    backend: str = Field(examples=["memory"])
    counts: dict[str, int] = Field(examples=[{"parties": 5835, "links": 8551}])
    risk_worker: str = Field("off", examples=["serving"],
                             description="the second process answering today's risk checks: off, starting "
                                         "(building its index), catching up (with a newer store version) or serving")
