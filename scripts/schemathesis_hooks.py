"""What scripts/schemathesis adds to schemathesis for the gateway's GraphQL schema.

- Values for the scalars schemathesis does not know (async-graphql's `NaiveDate` and
  `NaiveDateTime`).
- `catalogued_graphql_errors`, the GraphQL run's server-error check in place of
  `not_a_server_error`: schemathesis counts every resolver error that carries no Apollo
  client code as a server failure (its ST113: "return a missing record in `data`"), while
  this API answers a missing record, a refused role or a closed session with a GraphQL error
  carrying its code from the one catalogue (docs/errors.md). This check fails on what is a
  server failure here: an HTTP 5xx, an error without a catalogue code, or one whose code the
  catalogue answers with a 5xx (`INTERNAL`, `UNAVAILABLE`).
"""

import json
import pathlib
import re

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes
from schemathesis.specs.graphql.schemas import GraphQLSchema

schemathesis.graphql.scalar(
    "NaiveDate",
    st.dates().map(lambda d: nodes.String(d.isoformat())),
)
schemathesis.graphql.scalar(
    "NaiveDateTime",
    st.datetimes().map(lambda t: nodes.String(t.isoformat(timespec="seconds"))),
)

# The catalogue's table: | `CODE` | status | when |
_ROW = re.compile(r"^\| `([A-Z_]+)` \| (\d{3}) \|", re.MULTILINE)
_CATALOGUE_FILE = pathlib.Path(__file__).resolve().parent.parent / "docs" / "errors.md"
CATALOGUE = {code: int(status) for code, status in _ROW.findall(_CATALOGUE_FILE.read_text())}
if len(CATALOGUE) < 10:
    raise RuntimeError(f"{_CATALOGUE_FILE}: the table of error codes was not found")


@schemathesis.check
def catalogued_graphql_errors(ctx, response, case):
    if not isinstance(case.operation.schema, GraphQLSchema):
        return None
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}: {response.text[:500]}")
    try:
        payload = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"not a JSON answer ({exc}): {response.text[:500]}") from None
    errors = payload.get("errors") if isinstance(payload, dict) else None
    for error in errors or []:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        if code not in CATALOGUE:
            raise AssertionError(f"an error without a catalogue code: {error}")
        if CATALOGUE[code] >= 500:
            raise AssertionError(f"{code} (HTTP {CATALOGUE[code]} in the catalogue): {error}")
    return None
