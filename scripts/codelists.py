#!/usr/bin/env python3
"""Writes crates/core/src/codelists/table.rs: the names of the IATI codelists Senda shows.

Source: the IATI codelists (version 2.03 files) in ../shared/data/codelists/ (non-embedded/ and
embedded/), read at the time this script is run, never at build or test time: the generated
table is committed, and the product carries it as its own small facts.

    python3 scripts/codelists.py [CODELISTS_DIR]    # default ../shared/data/codelists

Names are the codelist's English `name` (withdrawn codes kept: old files use them). The IATI
codelists have English and French names only: Spanish names are Senda's own translations,
below (SPANISH), for the short lists a reader meets on the activity page; a code without one is
shown in English on Spanish pages (marked lang="en").
"""
import os
import sys
import xml.etree.ElementTree as ET

LISTS = [
    # (Rust name, file, what it names)
    ("ACTIVITY_SCOPE", "ActivityScope", "activity-scope/@code"),
    ("AID_TYPE", "AidType", "default-aid-type/@code, aid-type/@code (vocabulary 1)"),
    ("COLLABORATION_TYPE", "CollaborationType", "collaboration-type/@code"),
    ("FINANCE_TYPE", "FinanceType", "default-finance-type/@code, finance-type/@code"),
    ("FLOW_TYPE", "FlowType", "default-flow-type/@code, flow-type/@code"),
    ("ORGANISATION_TYPE", "OrganisationType", "participating-org/@type, reporting-org/@type"),
    ("SECTOR", "Sector", "sector/@code, vocabulary 1 (DAC 5 digit)"),
    ("SECTOR_CATEGORY", "SectorCategory", "sector/@code, vocabulary 2 (DAC 3 digit)"),
    ("SECTOR_VOCABULARY", "SectorVocabulary", "sector/@vocabulary"),
    ("GEOGRAPHIC_VOCABULARY", "GeographicVocabulary", "location-id/@vocabulary, administrative/@vocabulary"),
    ("DESCRIPTION_TYPE", "DescriptionType", "description/@type"),
    ("POLICY_SIGNIFICANCE", "PolicySignificance", "policy-marker/@significance"),
]

SPANISH = {
    "ActivityScope": {
        "1": "Mundial", "2": "Regional", "3": "Multinacional", "4": "Nacional",
        "5": "Subnacional: varias divisiones de primer nivel",
        "6": "Subnacional: una división de primer nivel",
        "7": "Subnacional: una división de segundo nivel", "8": "Un solo lugar",
    },
    "FlowType": {
        "10": "AOD (asistencia oficial para el desarrollo)", "20": "OOF (otros flujos oficiales)",
        "21": "OOF distintos de créditos a la exportación",
        "22": "Créditos a la exportación con apoyo oficial",
        "30": "Financiación privada para el desarrollo", "35": "Mercado privado",
        "36": "Inversión extranjera directa privada", "37": "Otros flujos privados en condiciones de mercado",
        "40": "Sin flujo", "50": "Otros flujos",
    },
    "CollaborationType": {
        "1": "Bilateral", "2": "Multilateral (entradas)",
        "3": "Bilateral, contribuciones básicas a ONG y otras entidades privadas / APP",
        "4": "Multilateral (salidas)", "6": "Salidas del sector privado",
        "7": "Bilateral, informe a posteriori de actividades de ONG financiadas con contribuciones básicas",
        "8": "Bilateral, cooperación triangular",
    },
    "OrganisationType": {
        "10": "Gobierno", "11": "Gobierno local", "15": "Otro sector público", "21": "ONG internacional",
        "22": "ONG nacional", "23": "ONG regional", "24": "ONG con sede en el país socio",
        "30": "Alianza público-privada", "40": "Multilateral", "60": "Fundación", "70": "Sector privado",
        "71": "Sector privado del país proveedor", "72": "Sector privado del país receptor",
        "73": "Sector privado de un tercer país", "80": "Académica, de formación e investigación",
        "90": "Otra",
    },
    "AidType": {
        "A01": "Apoyo presupuestario general", "A02": "Apoyo presupuestario sectorial",
        "B01": "Apoyo básico a ONG, otras entidades privadas, APP e institutos de investigación",
        "B02": "Contribuciones básicas a instituciones multilaterales y fondos mundiales",
        "B021": "Contribuciones básicas a instituciones multilaterales",
        "B022": "Contribuciones básicas a fondos mundiales",
        "B03": "Contribuciones a programas y fondos con fines específicos gestionados por socios",
        "B031": "Contribuciones a mecanismos de financiación de varios donantes y varias entidades",
        "B032": "Contribuciones a mecanismos de financiación de varios donantes y una entidad",
        "B033": "Contribuciones a mecanismos de un solo donante o asignadas a una ventana o lugar",
        "B04": "Fondos comunes (canasta)", "C01": "Intervenciones de tipo proyecto",
        "D01": "Personal del país donante", "D02": "Otra asistencia técnica",
        "E01": "Becas y formación en el país donante", "E02": "Costos imputados de estudiantes",
        "F01": "Alivio de la deuda", "G01": "Costos administrativos no incluidos en otra parte",
        "H01": "Sensibilización sobre el desarrollo",
        "H02": "Refugiados y solicitantes de asilo en países donantes",
        "H03": "Solicitantes de asilo finalmente aceptados", "H04": "Solicitantes de asilo finalmente rechazados",
        "H05": "Refugiados reconocidos", "H06": "Refugiados y solicitantes de asilo en otros países proveedores",
    },
    "FinanceType": {
        "110": "Donación estándar", "111": "Donación subvencionada", "210": "Subsidio de intereses",
        "211": "Subsidio de intereses a exportadores", "310": "Suscripción de capital (depósito)",
        "311": "Suscripción de capital (cobro)", "410": "Préstamo de ayuda", "421": "Préstamo estándar",
        "422": "Donación reembolsable", "423": "Bonos", "510": "Acciones ordinarias",
        "1100": "Garantías/seguros",
    },
    "GeographicVocabulary": {"A4": "País ISO (3166-1 alfa-2)", "G1": "GeoNames", "G2": "OpenStreetMap"},
    "DescriptionType": {"1": "General", "2": "Objetivos", "3": "Grupos destinatarios", "4": "Otra"},
    "PolicySignificance": {
        "0": "no es objetivo", "1": "objetivo significativo", "2": "objetivo principal",
        "3": "objetivo principal y en apoyo de un programa de acción", "4": "objetivo primario explícito",
    },
    "SectorVocabulary": {
        "1": "Códigos de propósito CAD/CRS de la OCDE (5 dígitos)",
        "2": "Códigos de propósito CAD/CRS de la OCDE (3 dígitos)",
        "10": "Clústeres humanitarios mundiales (IASC)", "99": "Organización informante",
    },
}


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read(folder, name):
    for sub in ("non-embedded", "embedded"):
        path = os.path.join(folder, sub, name + ".xml")
        if os.path.exists(path):
            root = ET.parse(path).getroot()
            items = []
            for item in root.iter("codelist-item"):
                code = (item.findtext("code") or "").strip()
                en = " ".join((item.findtext("name/narrative") or "").split())
                if code and en:
                    items.append((code, en))
            return sub + "/" + name + ".xml", items
    raise SystemExit(f"{name}.xml not found under {folder}")


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared", "data", "codelists")
    out = os.path.join(os.path.dirname(__file__), "..", "crates", "core", "src", "codelists", "table.rs")
    lines = [
        "//! GENERATED by `scripts/codelists.py` from the IATI codelists (`../shared/data/codelists/`,",
        "//! files named below); do not edit. Each entry: (code, English name, Spanish name or \"\").",
        "//! English names are the codelists'; Spanish ones are Senda's translations (the codelists",
        "//! have none).",
        "",
    ]
    for rust, name, what in LISTS:
        path, items = read(folder, name)
        es = SPANISH.get(name, {})
        lines.append(f"/// `{name}` ({path}): {what}.")
        lines.append(f"pub(super) static {rust}: &[(&str, &str, &str)] = &[")
        for code, en in items:
            lines.append(f"    ({rust_str(code)}, {rust_str(en)}, {rust_str(es.get(code, ''))}),")
        lines.append("];")
        lines.append("")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print(f"wrote {os.path.normpath(out)}")


if __name__ == "__main__":
    main()
