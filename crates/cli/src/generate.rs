//! Deterministic synthetic IATI 2.03 data, labelled synthetic everywhere it shows: identifiers
//! start with `XX-SENDA-SYNTHETIC-`, titles with `Synthetic:`, the reporting organisations'
//! names end with `(synthetic)`, and every activity carries `senda:synthetic="1"`.
//! The same generator, given a size, makes benchmark corpora.

use anyhow::{Context, Result};
use std::io::{BufWriter, Write};
use std::path::Path;

const AGENCIES: &[(&str, &str)] = &[
    ("US-GOV-1", "U.S. Agency for International Development (synthetic)"),
    ("US-GOV-11", "Department of State (synthetic)"),
    ("US-GOV-19", "Department of Homeland Security (synthetic)"),
    ("US-GOV-17", "Department of Labor (synthetic)"),
    ("US-GOV-21", "Inter-American Foundation (synthetic)"),
];

const IMPLEMENTERS: &[(&str, &str)] = &[
    ("XM-DAC-47066", "International Organization for Migration (synthetic)"),
    ("XM-DAC-41121", "UNHCR (synthetic)"),
    ("XM-DAC-41122", "UNICEF (synthetic)"),
    ("", "Fundación Comunitaria (synthetic)"),
    ("", "Local Partner Network (synthetic)"),
];

/// (English title, Spanish title, DAC sector, humanitarian)
const THEMES: &[(&str, &str, &str, bool)] = &[
    (
        "Emergency food assistance for drought-affected households",
        "Asistencia alimentaria de emergencia para hogares afectados por la sequía",
        "72040",
        true,
    ),
    ("Hurricane response and humanitarian assistance", "Respuesta al huracán y asistencia humanitaria", "72010", true),
    (
        "Asylum system strengthening and refugee integration",
        "Fortalecimiento del sistema de asilo e integración de refugiados",
        "15190",
        false,
    ),
    (
        "Shelters and legal aid for survivors of gender-based violence",
        "Albergues y asistencia legal para sobrevivientes de violencia basada en género",
        "15180",
        false,
    ),
    (
        "Protection of internally displaced people and children at risk",
        "Protección de personas desplazadas internamente y niñez en riesgo",
        "15160",
        false,
    ),
    (
        "Fair recruitment and labor rights for H-2A temporary workers",
        "Reclutamiento justo y derechos laborales de trabajadores temporales H-2A",
        "16020",
        false,
    ),
    (
        "Reception and reintegration services for returned migrants",
        "Recepción y reintegración de migrantes retornados",
        "15190",
        false,
    ),
    (
        "Border management and migrant registration capacity",
        "Gestión de fronteras y registro de migrantes",
        "15190",
        false,
    ),
    (
        "Counter migrant smuggling and trafficking in persons",
        "Combate al tráfico ilícito de migrantes y la trata de personas",
        "15190",
        false,
    ),
    (
        "Public information campaign on the risks of irregular migration",
        "Campaña de información sobre los riesgos de la migración irregular",
        "15190",
        false,
    ),
    (
        "Central American Minors refugee processing support",
        "Apoyo al procesamiento de refugiados del programa de Menores Centroamericanos",
        "15190",
        false,
    ),
    ("Coffee value chain competitiveness", "Competitividad de la cadena de valor del café", "31162", false),
    ("Municipal governance and transparency", "Gobernanza municipal y transparencia", "15112", false),
    ("Primary education quality", "Calidad de la educación primaria", "11220", false),
    ("Youth workforce development", "Desarrollo de la fuerza laboral juvenil", "11330", false),
    (
        "Climate-smart agriculture for smallholders",
        "Agricultura climáticamente inteligente para pequeños productores",
        "31120",
        false,
    ),
];

const DEPARTMENTS: &[(&str, &[&str])] = &[
    ("GT", &["GT-01", "GT-05", "GT-07", "GT-13", "GT-14", "GT-16", "GT-20"]),
    ("HN", &["HN-CR", "HN-FM", "HN-AT", "HN-CH", "HN-CP", "HN-LE"]),
    ("SV", &["SV-SS", "SV-SA", "SV-SM", "SV-US", "SV-AH", "SV-CH"]),
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A commitment in cents: $200,000 to $8,000,000.
fn amount_cents(rng: &mut fastrand::Rng) -> u64 {
    rng.u64(20_000_000..800_000_000)
}

/// The latest month a synthetic transaction may fall in (year, month): December 2025, before
/// the file's `generated-datetime` (2026-01-01), so no money lies in the future of the data.
const LAST_TRANSACTION: (i32, u8) = (2025, 12);

/// Writes `n` synthetic activities to `out` as one IATI 2.03 file.
pub fn write_file(out: &Path, n: u64, tx_per_activity: Option<u64>, seed: u64) -> Result<()> {
    let f = std::fs::File::create(out).with_context(|| format!("cannot write {}", out.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    write(&mut w, n, tx_per_activity, seed)?;
    w.flush()?;
    Ok(())
}

/// Writes `n` synthetic activities as one IATI 2.03 document.
pub fn write(w: &mut dyn Write, n: u64, tx_per_activity: Option<u64>, seed: u64) -> Result<()> {
    let mut rng = fastrand::Rng::with_seed(seed);
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<!-- SYNTHETIC DATA generated by `senda generate` / `senda demo` (seed {seed}); not real activities. -->"#
    )?;
    writeln!(
        w,
        r#"<iati-activities version="2.03" generated-datetime="2026-01-01T00:00:00Z" xmlns:senda="{}">"#,
        crate::import::SENDA_NS
    )?;
    for i in 0..n {
        let (agency_ref, agency_name) = AGENCIES[rng.usize(..AGENCIES.len())];
        let theme = THEMES[rng.usize(..THEMES.len())];
        let regional = rng.u8(0..10) == 0;
        let (country, depts) = DEPARTMENTS[rng.usize(..DEPARTMENTS.len())];
        let (imp_ref, imp_name) = IMPLEMENTERS[rng.usize(..IMPLEMENTERS.len())];
        let start_year = rng.i32(2018..2025);
        let start = format!("{start_year}-{:02}-{:02}", rng.u8(1..13), rng.u8(1..29));
        let end = format!("{}-09-30", start_year + rng.i32(1..5));
        let spanish = rng.bool();
        writeln!(
            w,
            r#"  <iati-activity last-updated-datetime="2026-01-01T00:00:00Z" xml:lang="en" default-currency="USD" hierarchy="1"{} senda:synthetic="1">"#,
            if theme.3 { r#" humanitarian="1""# } else { "" }
        )?;
        writeln!(w, "    <iati-identifier>{agency_ref}-XX-SENDA-SYNTHETIC-{i:07}</iati-identifier>")?;
        writeln!(
            w,
            r#"    <reporting-org ref="{agency_ref}" type="10"><narrative>{}</narrative></reporting-org>"#,
            esc(agency_name)
        )?;
        write!(w, "    <title><narrative>Synthetic: {}</narrative>", esc(theme.0))?;
        if spanish {
            write!(w, r#"<narrative xml:lang="es">Sintético: {}</narrative>"#, esc(theme.1))?;
        }
        writeln!(w, "</title>")?;
        let place = if regional { "the region".to_owned() } else { country.to_owned() };
        writeln!(
            w,
            r#"    <description type="1"><narrative>Synthetic demo activity: {} in {place}. Generated by Senda; not a real activity.</narrative></description>"#,
            esc(&theme.0.to_lowercase())
        )?;
        writeln!(
            w,
            r#"    <participating-org ref="{agency_ref}" role="1" type="10"><narrative>{}</narrative></participating-org>"#,
            esc(agency_name)
        )?;
        writeln!(
            w,
            r#"    <participating-org ref="{imp_ref}" role="4" type="40"><narrative>{}</narrative></participating-org>"#,
            esc(imp_name)
        )?;
        writeln!(w, r#"    <activity-status code="{}"/>"#, if start_year < 2021 { 3 } else { 2 })?;
        writeln!(w, r#"    <activity-date iso-date="{start}" type="2"/>"#)?;
        writeln!(w, r#"    <activity-date iso-date="{end}" type="3"/>"#)?;
        if regional {
            writeln!(w, r#"    <recipient-region code="389" vocabulary="1" percentage="100"/>"#)?;
        } else if rng.u8(0..6) == 0 {
            writeln!(w, r#"    <recipient-country code="{country}" percentage="70"/>"#)?;
            writeln!(w, r#"    <recipient-region code="389" vocabulary="1" percentage="30"/>"#)?;
        } else {
            writeln!(w, r#"    <recipient-country code="{country}" percentage="100"/>"#)?;
        }
        writeln!(w, r#"    <sector vocabulary="1" code="{}" percentage="100"/>"#, theme.2)?;
        if !regional && rng.bool() {
            let d = depts[rng.usize(..depts.len())];
            writeln!(
                w,
                r#"    <location><name><narrative>Synthetic site in {d}</narrative></name><administrative vocabulary="G1" level="1" code="{d}"/><point srsName="http://www.opengis.net/def/crs/EPSG/0/4326"><pos>{:.4} {:.4}</pos></point></location>"#,
                13.0 + rng.f64() * 3.0,
                -90.0 + rng.f64() * 3.0
            )?;
        }
        let ntx = tx_per_activity.unwrap_or_else(|| rng.u64(2..13));
        // Plausible money: one commitment (obligation) first, then disbursements and
        // expenditures that together stay under it, dated from the start to at most
        // LAST_TRANSACTION (nothing after the file was generated).
        let start_month = start.get(5..7).and_then(|m| m.parse::<u8>().ok()).unwrap_or(1);
        let commitment_cents = amount_cents(&mut rng);
        for t in 0..ntx {
            let (ty, cents, date) = if t == 0 {
                (2, commitment_cents, start.clone())
            } else {
                let ty = if rng.u8(0..5) == 0 { 4 } else { 3 };
                // Each later transaction is at most 1/ntx of the commitment: their sum stays
                // under it.
                let cents = (commitment_cents * rng.u64(1..=100) / (100 * ntx)).max(1);
                let y = (start_year + (t as i32 % 4)).min(LAST_TRANSACTION.0);
                let mut m = rng.u8(1..13);
                if y == start_year {
                    m = m.max(start_month);
                }
                if y == LAST_TRANSACTION.0 {
                    m = m.min(LAST_TRANSACTION.1);
                }
                (ty, cents, format!("{y}-{m:02}-{:02}", rng.u8(1..29)))
            };
            writeln!(
                w,
                r#"    <transaction><transaction-type code="{ty}"/><transaction-date iso-date="{date}"/><value currency="USD" value-date="{date}">{}.{:02}</value><receiver-org ref="{imp_ref}"><narrative>{}</narrative></receiver-org></transaction>"#,
                cents / 100,
                cents % 100,
                esc(imp_name)
            )?;
        }
        if rng.u8(0..5) == 0 {
            writeln!(
                w,
                r#"    <result type="1"><title><narrative>Synthetic: people reached</narrative></title><indicator measure="1" ascending="1"><title><narrative>Number of people reached (synthetic)</narrative></title><baseline year="{start_year}" value="0"/><period><period-start iso-date="{start_year}-10-01"/><period-end iso-date="{}-09-30"/><target value="{}"/><actual value="{}"/></period></indicator></result>"#,
                start_year + 1,
                rng.u32(500..5000),
                rng.u32(100..6000)
            )?;
        }
        writeln!(w, "  </iati-activity>")?;
    }
    writeln!(w, "</iati-activities>")?;
    Ok(())
}

/// Writes the synthetic demo statistics as an HXL-tagged CSV (`senda stats import` reads it
/// like any HXL file): monthly encounters FY2022–FY2025 for SV, GT and HN in the series the
/// `cmms-2021` context indicators read (`cbp-swb-encounters` by demographic and encounter type,
/// `ohss-usbp-encounters`, `cbp-nationwide-encounters`, `dos-h2-visas`). Every series name
/// starts with "SYNTHETIC": these are not real figures.
pub fn write_demo_stats(out: &Path, seed: u64) -> Result<()> {
    let f = std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut w = BufWriter::new(f);
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x5747);
    writeln!(w, "Month,Country,Series,Series name,Demographic,Encounter type,Value")?;
    writeln!(w, "#date,#country+code,#indicator+code,#indicator+name,#demographic,#encounter_type,#indicator+value")?;
    let countries = [("SV", 9_000.0), ("GT", 20_000.0), ("HN", 16_000.0)];
    for fy in 2022..=2025 {
        for m in [10u8, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9] {
            if fy == 2025 && m == 9 {
                continue; // the latest fiscal year is partial, as in the real CBP file
            }
            let year = if m >= 10 { fy - 1 } else { fy };
            let trend = 1.0 - 0.12 * f64::from(fy - 2022) + 0.05 * f64::from(m % 4);
            for (cc, base) in countries {
                let total = base * trend * (0.85 + 0.3 * rng.f64());
                for (demo, share) in
                    [("Single Adults", 0.55), ("FMUA", 0.3), ("UAC", 0.1), ("Accompanied Minors", 0.05)]
                {
                    for (ty, tshare) in [("Apprehensions", 0.8), ("Expulsions", 0.2)] {
                        let v = (total * share * tshare).round() as u64;
                        writeln!(
                            w,
                            "{year}-{m:02},{cc},cbp-swb-encounters,SYNTHETIC southwest border encounters,{demo},{ty},{v}"
                        )?;
                    }
                }
                let usbp = (total * 0.93).round() as u64;
                writeln!(
                    w,
                    "{year}-{m:02},{cc},ohss-usbp-encounters,SYNTHETIC U.S. Border Patrol encounters,,,{usbp}"
                )?;
                let nation = (total * 1.04).round() as u64;
                writeln!(w, "{year}-{m:02},{cc},cbp-nationwide-encounters,SYNTHETIC nationwide encounters,,,{nation}")?;
                let visas =
                    (base * 0.02 * (1.0 + 0.25 * f64::from(fy - 2022)) * (0.8 + 0.4 * rng.f64())).round() as u64;
                writeln!(w, "{year}-{m:02},{cc},dos-h2-visas,SYNTHETIC H-2A and H-2B visas issued,,,{visas}")?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes synthetic demo results (plain CSV for `senda results import`): a baseline (FY2021),
/// a target (FY2025) and actuals (FY2022–FY2024) per focus country for every result indicator
/// of `cmms-2021`, some by sex, some on track and some not. Not real figures.
pub fn write_demo_results(out: &Path, strategy: &senda_core::Strategy, seed: u64) -> Result<()> {
    use senda_core::indicator::{Aggregation, IndicatorKind};
    let f = std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut w = BufWriter::new(f);
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x7e5);
    writeln!(w, "indicator,country,admin1,period,kind,value,denominator,sex,note")?;
    for (n, def) in strategy.indicators.iter().filter(|d| d.kind == IndicatorKind::Result).enumerate() {
        let ratio = def.over_places == Aggregation::RatioOfSums;
        for (ci, cc) in ["SV", "GT", "HN"].iter().enumerate() {
            let scale = 1000.0 * (1.0 + ci as f64) * (1.0 + n as f64 % 3.0);
            // Pace: > 1 ahead of the straight line, < 1 behind.
            let pace = [1.35, 1.05, 0.55][n % 3] * (0.97 + 0.03 * ci as f64);
            let (base, target) = match def.direction {
                senda_core::indicator::Direction::Up => (scale * 0.2, scale),
                senda_core::indicator::Direction::Down => (scale, scale * 0.5),
            };
            let den = |_v: f64| if ratio { format!("{}", (scale * 1.2).round()) } else { String::new() };
            let note = "SYNTHETIC demo value";
            writeln!(w, "{},{cc},,FY2021,baseline,{},{},,{note}", def.code, base.round(), den(base))?;
            writeln!(w, "{},{cc},,FY2025,target,{},{},,{note}", def.code, target.round(), den(target))?;
            for (k, fy) in (2022..=2024).enumerate() {
                let share = ((k + 1) as f64 / 4.0 * pace).min(1.2);
                let v = base + (target - base) * share * (0.95 + 0.1 * rng.f64());
                let by_sex = def.disaggregations.contains(&senda_core::indicator::DisaggregationDim::Sex) && !ratio;
                if by_sex {
                    let female = (v * 0.52).round();
                    let male = v.round() - female;
                    writeln!(w, "{},{cc},,FY{fy},actual,{female},,female,{note}", def.code)?;
                    writeln!(w, "{},{cc},,FY{fy},actual,{male},,male,{note}", def.code)?;
                } else {
                    writeln!(w, "{},{cc},,FY{fy},actual,{},{},,{note}", def.code, v.round(), den(v))?;
                }
            }
        }
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use senda_iati::ActivityReader;

    /// The demo's money is plausible: each activity's disbursements and expenditures stay under
    /// its commitment, and no transaction is dated after December 2025 (the file says it was
    /// generated on 2026-01-01).
    #[test]
    fn synthetic_money_stays_under_the_commitment_and_in_the_past() {
        let mut xml = Vec::new();
        super::write(&mut xml, 300, None, 7).expect("written");
        let mut r = ActivityReader::new(&xml[..], "synthetic.xml");
        let mut n = 0;
        while let Some(p) = r.next_activity().expect("readable") {
            let a = p.activity.expect("an activity");
            let (mut committed, mut spent) = (Decimal::ZERO, Decimal::ZERO);
            for t in &a.transactions {
                let amount = t.value.as_ref().expect("value").amount;
                match t.transaction_type.as_str() {
                    "2" => committed += amount,
                    _ => spent += amount,
                }
                let date = t.date.expect("dated").to_string();
                assert!(date.as_str() <= "2025-12-31", "{}: {date}", a.iati_identifier);
            }
            assert!(committed > Decimal::ZERO, "{}", a.iati_identifier);
            assert!(spent <= committed, "{}: {spent} spent of {committed}", a.iati_identifier);
            n += 1;
        }
        assert_eq!(n, 300);
    }
}
