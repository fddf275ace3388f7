"""PostgreSQL connection URLs in a scenario: recognised, redacted, and refused when they hold a password."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["DB_SCHEMES", "is_db_url", "redact_url", "url_password", "url_problem"]

#: the URL schemes of a PostgreSQL connection (libpq's connection URIs): a layer whose ``path`` is one is
#: read from PostGIS (:mod:`siteplan.inputs.postgis`)
DB_SCHEMES = ("postgresql://", "postgres://")
#: URL query parameters that carry a secret
_SECRET_PARAMS = frozenset({"password", "sslpassword"})


def is_db_url(path: object) -> bool:
    """True when a layer's ``path`` is a PostgreSQL connection URL (``postgresql://`` or ``postgres://``)."""
    return isinstance(path, str) and path.strip().lower().startswith(DB_SCHEMES)


def redact_url(url: str) -> str:
    """``url`` without its password: the ``user:password@`` part and a ``password=`` (or
    ``sslpassword=``) query parameter are removed; the rest is kept as written.

    Examples
    --------
    >>> redact_url("postgresql://planner:s3cret@db.example:5432/gis?sslmode=require&password=x")
    'postgresql://planner@db.example:5432/gis?sslmode=require'
    """
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)(.*)\Z", url, re.DOTALL)
    if m is None:
        return url
    head, netloc, rest = m.groups()
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}@{host}"
    path, mark, query = rest.partition("?")
    if mark:
        query, hash_, frag = query.partition("#")
        kept = [kv for kv in query.split("&") if unquote(kv.split("=", 1)[0]).strip().lower() not in _SECRET_PARAMS]
        rest = path + ("?" + "&".join(kept) if kept else "") + hash_ + frag
    return head + netloc + rest


def url_password(url: str) -> str | None:
    """The password a URL holds (None when it holds none)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.password:
        return parts.password
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        if k.lower() in _SECRET_PARAMS and v:
            return v
    return None


def url_problem(url: str) -> str | None:
    """Why a scenario's connection URL cannot be used (None when it can): it holds a password, which
    the scenario file (shared, and recorded in the run's manifest) must not carry."""
    if url_password(url) is not None:
        return (f"{redact_url(url)}: the URL holds a password; siteplan never writes a password into a file, so "
                "the scenario must not hold one: remove it and set PGPASSWORD, or put it in ~/.pgpass, or use "
                "a pg_service.conf entry (postgresql:///?service=NAME)")
    return None

