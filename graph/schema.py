"""One registry of link kinds: labels (zh/en), allowed endpoint kinds, direction.

Use :data:`LINK_SCHEMA` (or :func:`link_spec`) wherever a link kind needs a label or a
rule: pages, reports, ingest checks and the risk grading all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.model import ORGANISATION_KINDS, LinkKind, PartyKind

_PEOPLE = frozenset({PartyKind.PERSON, PartyKind.UNRESOLVED})
_HOLDERS = _PEOPLE | ORGANISATION_KINDS
_ORGS = ORGANISATION_KINDS | frozenset({PartyKind.UNRESOLVED})


@dataclass(frozen=True, slots=True)
class LinkSpec:
    """What a link kind means: ``src`` → ``dst`` reads as "src is <label_en> of dst"."""

    kind: LinkKind
    label_zh: str
    label_en: str
    src_kinds: frozenset[PartyKind]
    dst_kinds: frozenset[PartyKind]
    role: bool  # a position held by a person or organisation in a firm
    contact: bool = False  # a shared-contact link (firm → phone/e-mail/address node)


LINK_SCHEMA: dict[LinkKind, LinkSpec] = {
    spec.kind: spec
    for spec in (
        LinkSpec(LinkKind.LEGAL_REPRESENTATIVE, "法定代表人", "legal representative", _PEOPLE, _ORGS, True),
        LinkSpec(LinkKind.PRINCIPAL, "主要负责人", "principal", _PEOPLE, _ORGS, True),
        LinkSpec(LinkKind.ACTUAL_CONTROLLER, "实际控制人", "actual controller", _HOLDERS, _ORGS, True),
        LinkSpec(LinkKind.BENEFICIAL_OWNER, "受益所有人", "beneficial owner", _HOLDERS, _ORGS, True),
        LinkSpec(LinkKind.DIRECTOR, "董事", "director", _PEOPLE, _ORGS, True),
        LinkSpec(LinkKind.SUPERVISOR, "监事", "supervisor", _PEOPLE, _ORGS, True),
        LinkSpec(LinkKind.SENIOR_MANAGER, "高级管理人员", "senior manager", _PEOPLE, _ORGS, True),
        LinkSpec(LinkKind.SHAREHOLDER, "股东", "shareholder", _HOLDERS, _ORGS, True),
        LinkSpec(LinkKind.BRANCH_OF, "分支机构", "branch of", _ORGS, _ORGS, False),
        LinkSpec(
            LinkKind.RESPONSIBLE_PRACTITIONER, "直接责任注册执业人员", "directly responsible practitioner", _PEOPLE, _ORGS, True
        ),
        LinkSpec(LinkKind.SHARED_PHONE, "联系电话", "phone", _ORGS, frozenset({PartyKind.PHONE}), False, True),
        LinkSpec(LinkKind.SHARED_EMAIL, "电子邮箱", "e-mail", _ORGS, frozenset({PartyKind.EMAIL}), False, True),
        LinkSpec(LinkKind.SHARED_ADDRESS, "住所", "address", _ORGS, frozenset({PartyKind.ADDRESS}), False, True),
    )
}

ROLE_KINDS = frozenset(k for k, s in LINK_SCHEMA.items() if s.role)
CONTACT_KINDS = frozenset(k for k, s in LINK_SCHEMA.items() if s.contact)

PARTY_LABELS_ZH: dict[PartyKind, str] = {
    PartyKind.ENTERPRISE: "企业",
    PartyKind.INDIVIDUAL_BUSINESS: "个体工商户",
    PartyKind.COOPERATIVE: "农民专业合作社",
    PartyKind.SOCIAL_ORGANISATION: "社会组织",
    PartyKind.PUBLIC_INSTITUTION: "事业单位",
    PartyKind.GOVERNMENT_AGENCY: "政府机构",
    PartyKind.PERSON: "自然人",
    PartyKind.UNRESOLVED: "未识别主体",
    PartyKind.PHONE: "电话",
    PartyKind.EMAIL: "邮箱",
    PartyKind.ADDRESS: "地址",
}

# Officer titles (职务) as written → link kind. Checked longest first by the ingest.
OFFICER_TITLES: dict[str, LinkKind] = {
    "董事长": LinkKind.DIRECTOR,
    "副董事长": LinkKind.DIRECTOR,
    "执行董事": LinkKind.DIRECTOR,
    "独立董事": LinkKind.DIRECTOR,
    "职工董事": LinkKind.DIRECTOR,
    "董事": LinkKind.DIRECTOR,
    "监事会主席": LinkKind.SUPERVISOR,
    "职工监事": LinkKind.SUPERVISOR,
    "监事": LinkKind.SUPERVISOR,
    "总经理": LinkKind.SENIOR_MANAGER,
    "副总经理": LinkKind.SENIOR_MANAGER,
    "经理": LinkKind.SENIOR_MANAGER,
    "财务负责人": LinkKind.SENIOR_MANAGER,
    "董事会秘书": LinkKind.SENIOR_MANAGER,
    "总裁": LinkKind.SENIOR_MANAGER,
    "首席执行官": LinkKind.SENIOR_MANAGER,
    "厂长": LinkKind.SENIOR_MANAGER,
    "理事长": LinkKind.DIRECTOR,
    "副理事长": LinkKind.DIRECTOR,
    "常务理事": LinkKind.DIRECTOR,
    "理事": LinkKind.DIRECTOR,
    "会长": LinkKind.DIRECTOR,
    "副会长": LinkKind.DIRECTOR,
    "监事长": LinkKind.SUPERVISOR,
    "秘书长": LinkKind.SENIOR_MANAGER,
    "副秘书长": LinkKind.SENIOR_MANAGER,
    "副总裁": LinkKind.SENIOR_MANAGER,
    "总监": LinkKind.SENIOR_MANAGER,
    "经营者": LinkKind.PRINCIPAL,
    "投资人": LinkKind.PRINCIPAL,
    "执行事务合伙人": LinkKind.PRINCIPAL,
    "合伙事务执行人": LinkKind.PRINCIPAL,
    "主任": LinkKind.PRINCIPAL,
    "院长": LinkKind.PRINCIPAL,
    "校长": LinkKind.PRINCIPAL,
    "主要负责人": LinkKind.PRINCIPAL,
    "负责人": LinkKind.PRINCIPAL,
    "法定代表人": LinkKind.LEGAL_REPRESENTATIVE,
    "执业人员": LinkKind.RESPONSIBLE_PRACTITIONER,
    "注册执业人员": LinkKind.RESPONSIBLE_PRACTITIONER,
}


def link_spec(kind: LinkKind | str) -> LinkSpec:
    """Return the spec of a link kind."""
    return LINK_SCHEMA[LinkKind(kind)]


def officer_link_kind(title: str) -> LinkKind | None:
    """Return the link kind for an officer title (职务), or None when unknown.

    A combined title such as "执行董事兼总经理" maps to its first recognised part.
    """
    text = title.strip()
    if text in OFFICER_TITLES:
        return OFFICER_TITLES[text]
    for part in text.replace("、", "兼").replace("/", "兼").split("兼"):
        part = part.strip()
        if part in OFFICER_TITLES:
            return OFFICER_TITLES[part]
    for known in sorted(OFFICER_TITLES, key=len, reverse=True):
        if known in text:
            return OFFICER_TITLES[known]
    return None
