"""The Cypher of the Bolt backend: schema, dialects and every statement it sends.

Use this module only through :mod:`graph.backends.bolt`. Everything here is portable
openCypher (no APOC, no procedures besides the two listed below for index housekeeping),
so the same statements run on Neo4j 5 and on FalkorDB's Bolt port. Values always travel as
parameters; the only text ever put into a statement is a label, relationship type or
property name from the fixed whitelists below, or one of the fixed fragments in this module.

How the graph is laid out:

* ``(:Party {key, kind, name, code, region, start, end, status, flags, attrs, primary_rank,
  src_file, src_row, run, seq})``; ``attrs`` is a JSON string, ``flags`` a list of strings.
* ``(:Party)-[:LINK {fid, kind, start, end, ratio, amount, currency, title, origin, src_file, src_row,
  run, seq}]->(:Party)``: one relationship type, the kind a property, so as-of and kind
  filters are property filters. Link dates are proleptic ordinals (integers).
* ``(:Record {fid, kind, subject, start, end, target, attrs, ...})``,
  ``(:Name {uid, party, name, nkey, start, end, ...})-[:HAS]->(:Gram {g, n})`` (the character
  trigrams of the name's search key; ``n`` counts the names holding it),
  ``(:Alias {unresolved, resolved, reason})``, ``(:Rejection)``, ``(:CodeObs)``, ``(:File)``,
  ``(:Run)``, ``(:Meta {key, value})``.

Party and record dates are ISO strings and link dates are ordinals, never native temporal
types, so Neo4j and FalkorDB store and compare them alike. A link's ``ratio`` and ``amount``
are decimal text (Python ``repr`` of the float, read back with ``float``): FalkorDB's Bolt
port prints float parameters with six decimals and its ``toFloat()`` parses in single
precision, so numbers would not come back as they were given (use ``toFloat(l.ratio)`` in
hand-written Cypher).

Dialects (detected by :func:`graph.backends.bolt.detect_dialect`):

``neo4j``
    Uniqueness constraints and named indexes with ``IF NOT EXISTS``; explicit transactions
    are real, so a writer batch is atomic.
``falkordb``
    ``CALL dbms.components()`` fails (the server agent string claims "Neo4j/5.13.0", so it
    cannot tell them apart). No Cypher constraints (FalkorDB has ``GRAPH.CONSTRAINT`` on the
    Redis side only), indexes are ``CREATE INDEX FOR (n:L) ON (n.p)`` without a name or
    ``IF NOT EXISTS`` and fail when they exist, so existing ones are read with
    ``CALL db.indexes()`` first. BEGIN/COMMIT/ROLLBACK are accepted but do nothing: each
    statement is atomic on its own (see the writer in ``bolt.py`` for what that means).
    The Bolt endpoint takes the first key of the extra map that BEGIN and RUN carry as the
    name of the graph to use: a session with a database sends ``{"db": ...}`` and lands in a
    graph called "db", a read-mode session (``{"mode": "r"}``) in a graph called "mode". So
    sessions on FalkorDB carry nothing (no database, access mode or bookmarks) and use the
    server's default graph "falkordb".
    String parameters are pasted into the statement text between single quotes without
    escaping (a quote in a name would end the string: Cypher injection), so the store
    escapes quotes and backslashes itself when a probe shows the server needs it; and the
    statement plus its parameters must stay below 4 KiB or the server crashes, so lists
    are sent in pieces under a byte budget.
    The Bolt listener's port must be below 32768 (a larger ``BOLT_PORT`` silently starts no
    listener) and a connection closed with GOODBYE breaks the next one (see ``bolt.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: bump when the layout above changes; stored as Meta {key: 'schema'}
SCHEMA_VERSION = "bolt-1"

#: (label, property) pairs that are unique: a constraint on Neo4j, an index on FalkorDB
UNIQUE: tuple[tuple[str, str], ...] = (
    ("Party", "key"),
    ("Name", "uid"),
    ("Gram", "g"),
    ("Record", "fid"),
    ("Alias", "unresolved"),
    ("Rejection", "uid"),
    ("CodeObs", "uid"),
    ("File", "sha256"),
    ("Run", "id"),
    ("Meta", "key"),
    ("CgLease", "name"),  # without it two first claims on Neo4j could MERGE a node each
)
#: (label, property) pairs looked up often enough to need an index
INDEXED: tuple[tuple[str, str], ...] = (
    ("Party", "code"),
    ("Name", "nkey"),
    ("Name", "party"),
    ("Record", "subject"),
    ("Record", "target"),
    ("Record", "kind"),
    ("Alias", "resolved"),
    ("Rejection", "run"),
)
#: (relationship type, property) pairs with an index
REL_INDEXED: tuple[tuple[str, str], ...] = (("LINK", "fid"),)

_NAMES = {x for pair in UNIQUE + INDEXED + REL_INDEXED for x in pair}


def _checked(*names: str) -> None:
    for n in names:
        if n not in _NAMES or not n.isidentifier():
            raise ValueError(f"{n!r} is not a whitelisted label or property")


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the servers the Bolt backend talks to."""

    name: str  # "neo4j" or "falkordb"
    transactions: bool  # explicit transactions are atomic (ROLLBACK undoes)
    named_databases: bool  # a session's database selects a graph

    def schema_statements(self, existing: set[tuple[str, str, str]]) -> list[str]:
        """Return the DDL still needed; ``existing`` holds (NODE|RELATIONSHIP, label, prop)."""
        out: list[str] = []
        if self.name == "neo4j":
            for label, prop in UNIQUE:
                _checked(label, prop)
                out.append(
                    f"CREATE CONSTRAINT {label.lower()}_{prop}_unique IF NOT EXISTS "
                    f"FOR (n:{label}) REQUIRE n.{prop} IS UNIQUE"
                )
            for label, prop in INDEXED:
                _checked(label, prop)
                out.append(f"CREATE INDEX {label.lower()}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})")
            for rtype, prop in REL_INDEXED:
                _checked(rtype, prop)
                out.append(f"CREATE INDEX {rtype.lower()}_{prop} IF NOT EXISTS FOR ()-[r:{rtype}]-() ON (r.{prop})")
            return out
        for label, prop in UNIQUE + INDEXED:
            _checked(label, prop)
            if ("NODE", label, prop) not in existing:
                out.append(f"CREATE INDEX FOR (n:{label}) ON (n.{prop})")
        for rtype, prop in REL_INDEXED:
            _checked(rtype, prop)
            if ("RELATIONSHIP", rtype, prop) not in existing:
                out.append(f"CREATE INDEX FOR ()-[r:{rtype}]-() ON (r.{prop})")
        return out


NEO4J = Dialect("neo4j", transactions=True, named_databases=True)
FALKORDB = Dialect("falkordb", transactions=False, named_databases=False)
DIALECTS = {d.name: d for d in (NEO4J, FALKORDB)}


_ROW_FIELD = re.compile(r"\br\.([a-z_]+)\b")


@dataclass(frozen=True, slots=True)
class RowStatement:
    """An ``UNWIND $rows AS r`` write whose rows travel as lists, not maps.

    The statement is written with ``r.<field>``; :func:`rows_statement` turns each into
    ``r[i]``, and :meth:`row` lays a row out in that order. Lists instead of maps halve
    what the driver packs and what FalkorDB's Bolt port pastes into its 4 KiB statement
    text (no key names), so about twice as many rows fit in one statement. A ``sourced``
    statement takes the source file and run as ``$file`` and ``$run`` once per statement
    (the writer groups its rows by them) instead of once per row.
    """

    text: str
    fields: tuple[str, ...]
    sourced: bool

    def row(self, values: dict[str, Any]) -> list[Any]:
        """The list to send for one row given as a dict of its fields."""
        return [values[f] for f in self.fields]


def rows_statement(template: str) -> RowStatement:
    """Compile a statement written with ``r.<field>`` into a :class:`RowStatement`."""
    fields = tuple(dict.fromkeys(_ROW_FIELD.findall(template)))
    index = {f: i for i, f in enumerate(fields)}
    # whitespace collapsed: FalkorDB counts the statement's text in its 4 KiB too (the
    # statements hold no string literal with runs of spaces)
    text = " ".join(_ROW_FIELD.sub(lambda m: f"r[{index[m.group(1)]}]", template).split())
    return RowStatement(text, fields, sourced="$file" in template)


DETECT = "CALL dbms.components() YIELD name, versions, edition RETURN name, versions, edition"
LIST_INDEXES_FALKORDB = "CALL db.indexes()"

# -- writes ------------------------------------------------------------------------------
META_INIT = """
MERGE (s:Meta {key: 'schema'}) ON CREATE SET s.value = $schema
MERGE (v:Meta {key: 'version'}) ON CREATE SET v.value = '0'
RETURN s.value AS schema
"""

BUMP_VERSION = """
MERGE (m:Meta {key: 'version'}) ON CREATE SET m.value = '0'
SET m.value = toString(toInteger(m.value) + 1)
RETURN m.value
"""

# A stored party is merged with a new mention: a source of higher primary rank wins, and a
# registration row replaces an earlier registration whole (the last loaded describes the firm
# as registered now, as in the embedded store); others only fill what is empty; flags are
# united. ``wins`` is computed before any SET so that the order of the assignments does not
# matter. primary_rank is assigned last.
PUT_PARTIES = rows_statement("""
UNWIND $rows AS r
MERGE (p:Party {key: r.key})
ON CREATE SET p.seq = r.seq
WITH p, r, (p.primary_rank IS NULL OR r.rank > p.primary_rank OR (r.rank >= 1 AND r.rank = p.primary_rank)) AS wins
SET p.kind = CASE WHEN wins OR p.kind = 'unresolved' THEN r.kind ELSE p.kind END,
    p.name = CASE WHEN wins OR coalesce(p.name, '') = '' THEN r.name ELSE p.name END,
    p.code = CASE WHEN coalesce(p.code, '') = '' THEN r.code ELSE p.code END,
    p.region = CASE WHEN coalesce(p.region, '') = '' THEN r.region ELSE p.region END,
    p.start = CASE WHEN wins AND r.rank >= 1 THEN r.start ELSE coalesce(CASE WHEN wins THEN r.start END, p.start, r.start) END,
    p.end = CASE WHEN wins AND r.rank >= 1 THEN r.end ELSE coalesce(CASE WHEN wins THEN r.end END, p.end, r.end) END,
    p.status = CASE WHEN wins OR coalesce(p.status, '') = '' THEN r.status ELSE p.status END,
    p.flags = coalesce(p.flags, []) + [f IN r.flags WHERE NOT f IN coalesce(p.flags, [])],
    p.attrs = CASE WHEN wins OR p.attrs IS NULL THEN coalesce(r.attrs, p.attrs) ELSE p.attrs END,
    p.src_file = CASE WHEN wins AND r.rank >= 1 THEN $file ELSE coalesce(p.src_file, $file) END,
    p.src_row = CASE WHEN wins AND r.rank >= 1 THEN r.src_row ELSE coalesce(p.src_row, r.src_row) END,
    p.run = CASE WHEN wins AND r.rank >= 1 THEN $run ELSE coalesce(p.run, $run) END,
    p.primary_rank = CASE WHEN wins THEN r.rank ELSE p.primary_rank END
""")

# endpoints of links that are not stored yet: unresolved placeholders, filled in later
PUT_PLACEHOLDERS = rows_statement("""
UNWIND $rows AS r
MERGE (p:Party {key: r.key})
ON CREATE SET p.kind = r.kind, p.name = '', p.code = r.code, p.region = r.region, p.status = '',
              p.flags = [], p.primary_rank = 0, p.seq = r.seq
""")

EXISTING_NAMES = """
UNWIND $uids AS u
MATCH (n:Name {uid: u})
RETURN n.uid, n.end IS NULL
"""

CLOSE_NAMES = rows_statement("""
UNWIND $rows AS r
MATCH (n:Name {uid: r.uid})
SET n.end = r.end
""")

PUT_GRAMS = rows_statement("""
UNWIND $rows AS r
MERGE (x:Gram {g: r.g})
ON CREATE SET x.n = 0
SET x.n = x.n + r.n
""")

CREATE_NAMES = rows_statement("""
UNWIND $rows AS r
CREATE (n:Name {uid: r.uid, party: r.party, name: r.name, nkey: r.nkey, seq: r.seq})
SET n.start = r.start, n.end = r.end, n.src_file = $file, n.src_row = r.src_row, n.run = $run
WITH n, r
UNWIND r.grams AS g
MATCH (x:Gram {g: g})
CREATE (n)-[:HAS]->(x)
""")

# A link id already stored is kept; an open stored link is closed when the new fact ends it,
# and one stored without a currency (before links had one) takes the new fact's.
PUT_LINKS = rows_statement("""
UNWIND $rows AS r
MATCH (s:Party {key: r.src})
MATCH (d:Party {key: r.dst})
MERGE (s)-[l:LINK {fid: r.fid}]->(d)
ON CREATE SET l.kind = r.kind, l.start = r.start, l.end = r.end, l.ratio = r.ratio, l.amount = r.amount,
              l.currency = r.currency, l.title = r.title, l.origin = r.origin, l.src_file = $file, l.src_row = r.src_row,
              l.run = $run, l.seq = r.seq
ON MATCH SET l.end = CASE WHEN l.end IS NULL AND r.end IS NOT NULL THEN r.end ELSE l.end END,
             l.currency = CASE WHEN coalesce(l.currency, '') = '' THEN r.currency ELSE l.currency END
""")

DERIVED_LINKS = """
UNWIND $keys AS k
MATCH (:Party {key: k})-[l:LINK]-(:Party)
WHERE l.origin = $origin
RETURN DISTINCT l.fid
"""

DELETE_DERIVED_LINKS = """
UNWIND $fids AS f
MATCH ()-[l:LINK {fid: f}]->()
WHERE l.origin = $origin
DELETE l
"""

CLOSE_LINK = """
MATCH ()-[l:LINK {fid: $fid}]->()
SET l.end = $end
RETURN count(l)
"""

LINK_EXISTS = "UNWIND $fids AS f MATCH ()-[l:LINK {fid: f}]->() RETURN DISTINCT l.fid"

PUT_RECORDS = rows_statement("""
UNWIND $rows AS r
MERGE (x:Record {fid: r.fid})
ON CREATE SET x.kind = r.kind, x.subject = r.subject, x.start = r.start, x.end = r.end, x.target = r.target,
              x.attrs = r.attrs, x.src_file = $file, x.src_row = r.src_row, x.run = $run, x.seq = r.seq
""")

PUT_REJECTIONS = rows_statement("""
UNWIND $rows AS r
MERGE (x:Rejection {uid: r.uid})
ON CREATE SET x.file = r.file, x.row = r.row, x.col = r.col, x.value = r.value, x.reason = r.reason,
              x.run = r.run, x.seq = r.seq
""")

PUT_CODE_OBSERVATIONS = rows_statement("""
UNWIND $rows AS r
MERGE (x:CodeObs {uid: r.uid})
ON CREATE SET x.code = r.code, x.normalised = r.normalised, x.name = r.name, x.valid = r.valid, x.kind = r.kind,
              x.src_file = $file, x.src_row = r.src_row, x.run = $run, x.seq = r.seq
""")

PUT_ALIASES = rows_statement("""
UNWIND $rows AS r
MERGE (a:Alias {unresolved: r.unresolved})
SET a.resolved = r.resolved, a.reason = r.reason
""")

DROP_ALIASES = rows_statement("""
UNWIND $rows AS r
MATCH (a:Alias {unresolved: r.unresolved})
DELETE a
""")

MARK_FILE = """
MERGE (f:File {sha256: $sha256})
SET f.path = $path, f.kind = $kind, f.rows = $rows, f.status = $status, f.run = $run, f.updated = $updated
"""

PUT_META = "MERGE (m:Meta {key: $key}) SET m.value = $value"

START_RUN = "CREATE (r:Run {id: $id, started: $started, note: $note})"
FINISH_RUN = "MATCH (r:Run {id: $id}) SET r.finished = $finished, r.summary = $summary"

WIPE = "MATCH (n) DETACH DELETE n"

# A named lease shared by every process on the graph (BoltStore.exclusive): free when it never
# was taken, was given back or ran out. Times are the server's, so clients' clocks need not
# agree. The first SET takes the node's write lock before the lease is read: on Neo4j two
# claims could otherwise both read "free" and both win; FalkorDB runs writes one at a time.
LEASE_TAKE = """
MERGE (l:CgLease {name: $name})
SET l.claimed_by = $me
WITH l
WHERE l.until IS NULL OR l.until < timestamp() OR l.holder = $me
SET l.holder = $me, l.until = timestamp() + $ttl_ms
RETURN l.holder
"""
LEASE_FREE = "MATCH (l:CgLease {name: $name}) WHERE l.holder = $me SET l.until = 0 RETURN l.holder"

# -- reads -------------------------------------------------------------------------------
RESOLVE = "OPTIONAL MATCH (a:Alias {unresolved: $key}) RETURN a.resolved"
RESOLVE_MANY = "UNWIND $keys AS k OPTIONAL MATCH (a:Alias {unresolved: k}) RETURN k, a.resolved"
ALIASES_OF = "MATCH (a:Alias {resolved: $key}) RETURN a.unresolved"

PARTIES = "UNWIND $keys AS k MATCH (p:Party {key: k}) RETURN p {.*}"
PARTY_NAMES = "UNWIND $keys AS k MATCH (p:Party {key: k}) RETURN p.key, p.name"
ITER_PARTIES = "MATCH (p:Party) RETURN p {.*} ORDER BY p.seq"
ITER_PARTIES_OF_KINDS = "MATCH (p:Party) WHERE p.kind IN $kinds RETURN p {.*} ORDER BY p.seq"
PARTIES_BY_CODE = "MATCH (p:Party {code: $code}) RETURN p {.*} LIMIT $limit"
PARTIES_BY_CODE_SHAPE = """
MATCH (p:Party)
WHERE p.code STARTS WITH $prefix AND p.code ENDS WITH $suffix AND size(p.code) = $length
RETURN p {.*} LIMIT $limit
"""

PARTIES_BY_NAME_KEY = """
UNWIND $keys AS k
MATCH (n:Name {nkey: k})
MATCH (p:Party {key: n.party})
RETURN DISTINCT k, p {.*}
"""

NAMES_OF = """
MATCH (n:Name {party: $key})
RETURN n.party, n.name, n.start, n.end, n.src_file, n.src_row, n.run
"""

LINK_COLUMNS = (
    "l.fid, l.kind, startNode(l).key, endNode(l).key, l.start, l.end, l.ratio, l.amount, l.title, "
    "l.src_file, l.src_row, l.run, l.currency"
)
LINK_BY_ID = f"MATCH ()-[l:LINK {{fid: $fid}}]->() RETURN {LINK_COLUMNS}"
LINKS_BY_ID = f"UNWIND $fids AS f MATCH ()-[l:LINK {{fid: f}}]->() RETURN {LINK_COLUMNS}"
ITER_LINKS = f"MATCH ()-[l:LINK]->() RETURN {LINK_COLUMNS} ORDER BY l.seq"
ITER_LINKS_OF_KINDS = f"MATCH ()-[l:LINK]->() WHERE l.kind IN $kinds RETURN {LINK_COLUMNS} ORDER BY l.seq"

# fixed fragments combined by link_filter(); no value is ever written into them
_PATTERNS = {
    "both": "(:Party {key: kk})-[l:LINK]-(o:Party)",
    "out": "(:Party {key: kk})-[l:LINK]->(o:Party)",
    "in": "(:Party {key: kk})<-[l:LINK]-(o:Party)",
}
_AS_OF = "(l.start IS NULL OR l.start <= $day) AND (l.end IS NULL OR l.end > $day)"
_KINDS = "l.kind IN $kinds"


def link_filter(as_of: bool, kinds: bool) -> str:
    """Return the WHERE clause for links active on ``$day`` and/or of ``$kinds``."""
    parts = ([_AS_OF] if as_of else []) + ([_KINDS] if kinds else [])
    return ("WHERE " + " AND ".join(parts)) if parts else ""


# the keys a resolved party stands for: itself and the unresolved parties aliased to it
_WITH_ALIASES = """
UNWIND $keys AS k
OPTIONAL MATCH (a:Alias {resolved: k})
WITH k, collect(a.unresolved) AS us
UNWIND [k] + us AS kk
"""


def links_of(direction: str, as_of: bool, kinds: bool) -> str:
    """Links touching ``$keys`` (and their aliases) in ``direction``."""
    return f"{_WITH_ALIASES}MATCH {_PATTERNS[direction]}\n{link_filter(as_of, kinds)}\nRETURN {LINK_COLUMNS}"


def linked(direction: str) -> str:
    """For each of ``$keys`` (and its aliases), the resolved key at the other end of each of
    its links in ``direction``."""
    return (
        f"{_WITH_ALIASES}MATCH {_PATTERNS[direction]}\n"
        "OPTIONAL MATCH (b:Alias {unresolved: o.key})\n"
        "RETURN DISTINCT k, coalesce(b.resolved, o.key)"
    )


def stored_linked(direction: str) -> str:
    """For each of ``$keys``, the key at the other end of each of its links in ``direction``,
    as stored (no alias followed on either end)."""
    return f"UNWIND $keys AS kk\nMATCH {_PATTERNS[direction]}\nRETURN DISTINCT kk, o.key"


def expand(as_of: bool, kinds: bool) -> str:
    """One BFS hop: the links of the frontier ``$keys`` and the resolved key at their other end."""
    return (
        f"{_WITH_ALIASES}MATCH {_PATTERNS['both']}\n{link_filter(as_of, kinds)}\n"
        "OPTIONAL MATCH (b:Alias {unresolved: o.key})\n"
        f"RETURN {LINK_COLUMNS}, coalesce(b.resolved, o.key)"
    )


DEGREES = f"{_WITH_ALIASES}MATCH (:Party {{key: kk}})-[l:LINK]-() RETURN k, count(l)"

RECORD_BY_ID = "MATCH (r:Record {fid: $fid}) RETURN r {.*}"
RECORDS_TARGETING = "MATCH (r:Record {target: $fid}) RETURN r {.*} ORDER BY r.seq"
_RECORD_AS_OF = "(r.start IS NULL OR r.start <= $day) AND (r.end IS NULL OR r.end > $day)"
_RECORD_KINDS = "r.kind IN $kinds"
RECORD_SUBJECTS = f"MATCH (r:Record) WHERE {_RECORD_KINDS} RETURN DISTINCT r.subject"


def records(subjects: bool, kinds: bool, as_of: bool) -> str:
    """Records of ``$subjects`` / of ``$kinds`` / in force on ``$day`` (ISO text)."""
    parts = ([_RECORD_KINDS] if kinds else []) + ([_RECORD_AS_OF] if as_of else [])
    where = ("WHERE " + " AND ".join(parts)) if parts else ""
    match = "UNWIND $subjects AS s MATCH (r:Record {subject: s})" if subjects else "MATCH (r:Record)"
    return f"{match}\n{where}\nRETURN r {{.*}} ORDER BY r.seq"


NAMES_BY_KEY = "MATCH (n:Name {nkey: $key}) RETURN n.party, n.name LIMIT $limit"
GRAM_COUNTS = "UNWIND $grams AS g MATCH (x:Gram {g: g}) RETURN x.g, x.n"
NAMES_CONTAINING_VIA_GRAM = """
MATCH (:Gram {g: $gram})<-[:HAS]-(n:Name)
WHERE n.nkey CONTAINS $key
RETURN n.party, n.name LIMIT $limit
"""
NAMES_CONTAINING = "MATCH (n:Name) WHERE n.nkey CONTAINS $key RETURN n.party, n.name LIMIT $limit"
NAMES_SHARING_GRAMS = """
UNWIND $grams AS g
MATCH (:Gram {g: g})<-[:HAS]-(n:Name)
WITH n, count(*) AS shared
ORDER BY shared DESC
LIMIT $limit
RETURN n.party, n.name
"""

ALIASES = "MATCH (a:Alias) RETURN a.unresolved, a.resolved, a.reason ORDER BY a.unresolved"
REJECTIONS = "MATCH (x:Rejection) RETURN x.file, x.row, x.col, x.value, x.reason, x.run ORDER BY x.seq"
REJECTIONS_OF_RUN = (
    "MATCH (x:Rejection {run: $run}) RETURN x.file, x.row, x.col, x.value, x.reason, x.run ORDER BY x.seq"
)
CODE_OBSERVATIONS = (
    "MATCH (x:CodeObs) RETURN x.code, x.normalised, x.name, x.valid, x.kind, x.src_file, x.src_row, x.run "
    "ORDER BY x.seq"
)
FILE_STATUS = "MATCH (f:File {sha256: $sha256}) RETURN f.status"
RUNS = "MATCH (r:Run) RETURN r.id, r.started, r.finished, r.summary ORDER BY r.started, r.id"
COUNT_PARTIES = "MATCH (p:Party) RETURN p.kind, count(p)"
COUNT_LINKS = "MATCH ()-[l:LINK]->() RETURN count(l)"
COUNT_RECORDS = "MATCH (r:Record) RETURN r.kind, count(r)"
COUNT_REJECTIONS = "MATCH (x:Rejection) RETURN count(x)"
COUNT_ALIASES = "MATCH (a:Alias) RETURN count(a)"
META = "MATCH (m:Meta {key: $key}) RETURN m.value"
