#!/usr/bin/env python3
"""Generates src/country_names.rs: the name -> code tables of the `countries` module.

Sources (pycountry 26.2.16 data, see shared/data/SOURCES.md):
  ../../../shared/data/geo/pycountry/iso3166-1.json        (alpha_2, alpha_3, name, official_name, common_name)
  ../../../shared/data/geo/pycountry/iso3166-2_GT_HN_SV.json (departments of GT, HN, SV)

Run from crates/stats:  python3 gen_countries.py [PATH_TO_SHARED_DATA]
Python 3 standard library only. The normalisation below MUST stay identical to
`countries::normalize` / `countries::candidates` in src/countries.rs; the Rust test
`every_pycountry_spelling_resolves` checks that the two agree on every source name.
"""

import json
import os
import sys
import unicodedata

# Names the CBP and OHSS files use that pycountry does not list under any of its spellings.
# Found by running the parser over the real files and listing every name that did not resolve,
# plus the usual English short names of the same kind. Keep short and explicit: no fuzzy rules.
ALIASES = {
    "BURMA": "MM",
    "CAPE VERDE": "CV",
    "CHINA, PEOPLES REPUBLIC OF": "CN",
    "CHINA, PEOPLE'S REPUBLIC": "CN",
    "CONGO, DEMOCRATIC REPUBLIC OF THE": "CD",
    "CONGO, DEMOCRATIC REPUBLIC": "CD",
    "DEMOCRATIC REPUBLIC OF THE CONGO": "CD",
    "CONGO, REPUBLIC": "CG",
    "CONGO, REPUBLIC OF THE": "CG",
    "CZECH REPUBLIC": "CZ",
    "IVORY COAST": "CI",
    "KOREA, SOUTH": "KR",
    "KOREA, NORTH": "KP",
    "KOSOVO": "XK",
    "LAOS": "LA",
    "MACEDONIA": "MK",
    "MICRONESIA, FEDERATED STATES": "FM",
    "RUSSIA": "RU",
    "SWAZILAND": "SZ",
    "TURKEY": "TR",
    "VIETNAM": "VN",
}

APOSTROPHES = "'\u2019\u2018`\u00b4\u02bc"


def normalize(s):
    """NFKD, strip marks, uppercase, & -> AND, drop apostrophes, other punctuation -> space
    (commas and parentheses kept), collapse spaces."""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.category(c).startswith("M"))
    s = s.upper()
    out = []
    for c in s:
        if c == "&":
            out.append(" AND ")
        elif c in APOSTROPHES:
            continue
        elif c.isalnum() or c in ",()":
            out.append(c)
        else:
            out.append(" ")
    return " ".join("".join(out).split())


def finish(v):
    v = " ".join(v.replace(",", " ").replace("(", " ").replace(")", " ").split())
    if v.startswith("THE "):
        v = v[4:]
    return v


def remove_parens(v):
    out, depth = [], 0
    for c in v:
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(c)
    return "".join(out)


def candidates(raw):
    n = normalize(raw)
    variants = [n]
    if "(" in n:
        variants.append(remove_parens(n))
    out = []
    for v in variants:
        forms = [v]
        if "," in v:
            x, y = v.split(",", 1)
            forms.append(y + " " + x)
        for f in forms:
            f = finish(f)
            if f and f not in out:
                out.append(f)
    return out


def rust_str(s):
    return json.dumps(s, ensure_ascii=False)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "shared", "data")
    geo = os.path.join(data, "geo", "pycountry")
    with open(os.path.join(geo, "iso3166-1.json"), encoding="utf-8") as f:
        countries = json.load(f)["3166-1"]
    with open(os.path.join(geo, "iso3166-2_GT_HN_SV.json"), encoding="utf-8") as f:
        subdivisions = json.load(f)["3166-2"]

    table, clashes = {}, {}

    def add(key, code, origin):
        if key in clashes:
            clashes[key].add(code)
            return
        old = table.get(key)
        if old is None:
            table[key] = (code, origin)
        elif old[0] != code:
            clashes[key] = {old[0], code}
            del table[key]

    for c in countries:
        code = c["alpha_2"]
        for field in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            if field in c:
                for k in candidates(c[field]):
                    add(k, code, "pycountry")
    # "Iran, Islamic Republic of" -> "IRAN": the part before the comma, only where no other
    # entry or short form claims it ("Korea, ..." and "Virgin Islands, ..." are thus left out).
    short, skipped_short = {}, set()
    for c in countries:
        for field in ("name", "official_name", "common_name"):
            if "," in c.get(field, ""):
                k = finish(normalize(c[field]).split(",", 1)[0])
                short.setdefault(k, set()).add(c["alpha_2"])
    for k, codes in sorted(short.items()):
        if len(codes) == 1 and k not in table and k not in clashes:
            table[k] = (next(iter(codes)), "pycountry, part before the comma")
        elif len(codes) > 1 and k not in table:
            skipped_short.add(k)
    for name, code in ALIASES.items():
        for k in candidates(name):
            old = table.get(k)
            if old is not None and old[0] != code:
                sys.exit(f"alias {name!r} -> {code} clashes with {old}")
            table[k] = (code, "alias")

    admin1 = []
    for s in subdivisions:
        country = s["code"].split("-")[0]
        for k in candidates(s["name"]):
            admin1.append((country, k, s["code"]))
    admin1 = sorted(set(admin1))
    seen = {}
    for country, k, code in admin1:
        if seen.setdefault((country, k), code) != code:
            sys.exit(f"admin-1 name {k!r} of {country} is ambiguous")

    lines = [
        "// @generated by crates/stats/gen_countries.py from shared/data/geo/pycountry/iso3166-1.json and",
        "// iso3166-2_GT_HN_SV.json (pycountry 26.2.16, Debian iso-codes, LGPL-2.1), plus the script's ALIASES.",
        "// Do not edit: change the script and run `cd crates/stats && python3 gen_countries.py`",
        "// (then `rustfmt --edition 2024 --config max_width=120 src/country_names.rs`).",
        "//",
        "// Keys are in the normal form of `countries::candidates` (uppercase ASCII words, no punctuation).",
        "// Spellings that name more than one country are left out (never guessed): "
        + (", ".join(sorted(set(clashes) | skipped_short)) or "none"),
        "",
        "/// Normalised country spelling → ISO 3166-1 alpha-2 code, sorted by spelling (binary search).",
        "pub(crate) static COUNTRY_NAMES: &[(&str, &str)] = &[",
    ]
    for k in sorted(table):
        lines.append(f"    ({rust_str(k)}, {rust_str(table[k][0])}),")
    lines.append("];")
    lines.append("")
    lines.append("/// (country alpha-2, normalised department name, ISO 3166-2 code), sorted (binary search).")
    lines.append("pub(crate) static ADMIN1_NAMES: &[(&str, &str, &str)] = &[")
    for country, k, code in admin1:
        lines.append(f"    ({rust_str(country)}, {rust_str(k)}, {rust_str(code)}),")
    lines.append("];")
    out = os.path.join(here, "src", "country_names.rs")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {out}: {len(table)} country spellings, {len(admin1)} department spellings, {len(set(clashes) | skipped_short)} left out")


if __name__ == "__main__":
    main()
