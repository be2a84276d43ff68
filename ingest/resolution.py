"""Identity resolution after ingest: masked IDs, name-only people, old organisation codes.

The rules (DATA_FORMATS.md, "Identity rules"): a masked ID resolves to a known person only
when the name and every revealed digit agree with exactly one person; otherwise it stays
an unresolved party. A person named without any ID in a firm's file resolves to the one
person with a full ID and the same name who holds a role in the same firm. A court debtor
given by its old 9-character organisation code resolves to the firm whose USCC embeds it.
Resolutions are stored as aliases (facts of their own), so they can be revised: an alias
that no longer holds (a second candidate appeared) is dropped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from graph.identifiers import MASK_CHARS, masked_matches
from graph.model import ORGANISATION_KINDS, Alias, Flag, PartyKind
from graph.store import GraphStore
from graph.textkey import name_search_key

# a masked ID must show at least this many characters to resolve: "******************" with
# a common name would otherwise match whoever of that name the store happens to know
MIN_REVEALED = 4


@dataclass(slots=True)
class ResolutionSummary:
    """How many unresolved mentions were looked at, resolved, left ambiguous or unmatched."""

    masked: int = 0
    masked_resolved: int = 0
    masked_ambiguous: int = 0
    masked_unmatched: int = 0
    name_only: int = 0
    name_only_resolved: int = 0
    org_codes: int = 0
    org_codes_resolved: int = 0
    dropped: int = 0


def resolve_identities(store: GraphStore, run_id: str) -> ResolutionSummary:
    """Resolve unresolved parties where the rules allow, store the aliases, return the counts."""
    view = store.view(traversal=False)  # every read below is answered by the store's tables
    summary = ResolutionSummary()
    previous = {a.unresolved: a for a in view.aliases()}
    unresolved = list(view.iter_parties([PartyKind.UNRESOLVED]))
    masked = [p for p in unresolved if Flag.MASKED_ID in p.flags]
    name_only = [p for p in unresolved if Flag.NAME_ONLY in p.flags]
    org_coded = [p for p in unresolved if p.attrs.get("org_code")]
    found: dict[str, Alias] = {}

    by_name = view.parties_by_name({name_search_key(p.name) for p in masked if p.name})
    for p in masked:
        summary.masked += 1
        if sum(ch not in MASK_CHARS for ch in p.code) < MIN_REVEALED:
            summary.masked_unmatched += 1  # (almost) nothing revealed: the name alone is no evidence
            continue
        candidates = {
            c.key for c in by_name.get(name_search_key(p.name), []) if c.kind == PartyKind.PERSON and masked_matches(p.code, c.code)
        }
        if len(candidates) == 1:
            found[p.key] = Alias(p.key, candidates.pop(), "证件号码遮蔽位以外一致且姓名相同,唯一匹配 (masked ID + name match one person)")
            summary.masked_resolved += 1
        elif candidates:
            summary.masked_ambiguous += 1
        else:
            summary.masked_unmatched += 1

    # the firms each name-only person is tied to, and the people in those firms: two bulk
    # look-ups (one call per party and firm took most of an ingest's end at 100k firms)
    # as stored, aliases not followed: an alias this rule made before would otherwise bring in
    # the firms of the person it points to (and that person into the firm), and the next run
    # could find a namesake there and drop the alias, the run after make it again. So the
    # evidence is what the files say: a role held under a full ID, in a firm as named there
    # (an alias made by another rule, a masked ID resolved to the person, does not count)
    tied = view.linked([p.key for p in name_only], direction="both", aliases=False)
    firms_of = {p.key: tied[p.key] | ({p.attrs["context"]} if p.attrs.get("context") else set()) for p in name_only}
    members = view.linked({f for firms in firms_of.values() for f in firms}, direction="in", aliases=False)
    # names only: building 114k whole parties took a third of an ingest's end at 100k firms
    names = view.party_names({m for ms in members.values() for m in ms if m.startswith("per:")})
    for p in name_only:
        summary.name_only += 1
        name = name_search_key(p.name)
        candidates = {m for f in firms_of[p.key] for m in members.get(f, ()) if m.startswith("per:")}
        matching = {k for k in candidates if k in names and name_search_key(names[k]) == name}
        if len(matching) == 1:
            found[p.key] = Alias(p.key, matching.pop(), "同一企业中同名且有完整证件号码者唯一 (same name, same firm, one person)")
            summary.name_only_resolved += 1

    if org_coded:
        wanted = {p.attrs["org_code"] for p in org_coded}
        owners: dict[str, set[str]] = defaultdict(set)
        for org in view.iter_parties(sorted(ORGANISATION_KINDS)):
            if org.key.startswith("org:") and org.code[8:17] in wanted:
                owners[org.code[8:17]].add(org.key)
        for p in org_coded:
            summary.org_codes += 1
            keys = owners.get(p.attrs["org_code"], set())
            if len(keys) == 1:
                found[p.key] = Alias(p.key, next(iter(keys)), "组织机构代码与统一社会信用代码第9-17位一致 (organisation code inside the USCC)")
                summary.org_codes_resolved += 1

    stale = [u for u in previous if u not in found]
    changed = [a for u, a in found.items() if previous.get(u) != a]
    summary.dropped = len(stale)
    if stale or changed:
        with store.writer(run_id) as w:
            w.drop_aliases(stale)
            w.put_aliases(changed)
    return summary
