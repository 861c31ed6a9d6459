//! The report's print and screen styles (inline in the document: no external asset).

/// Print and screen styles of the report (inline in the document).
pub const PRINT_CSS: &str = r#"
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
:root { color: #1b1f23; font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; font-size: 10pt; line-height: 1.35; }
body { margin: 0 auto; max-width: 190mm; padding: 0 4mm; background: #fff; }
h1 { font-size: 20pt; margin: 0 0 2mm; color: #123f5c; }
h2 { font-size: 15pt; margin: 0 0 3mm; color: #123f5c; border-bottom: 2px solid #1f5f8b; padding-bottom: 1mm; }
h3 { font-size: 11.5pt; margin: 5mm 0 2mm; color: #123f5c; break-after: avoid; page-break-after: avoid; }
p { margin: 1.5mm 0; }
.kicker { text-transform: uppercase; letter-spacing: .08em; color: #5f6b73; font-size: 9pt; margin-top: 6mm; }
.meta { color: #3d474f; }
.banner { border: 2px solid #b53d3d; color: #7a1f1f; background: #fbeaea; padding: 2mm 3mm; font-weight: bold; }
.totals { display: flex; gap: 4mm; margin: 3mm 0; padding: 0; list-style: none; }
.totals li { flex: 1; border: 1px solid #c9d3da; padding: 2mm 3mm; }
.totals .label { display: block; color: #5f6b73; font-size: 9pt; }
.totals .value { display: block; font-size: 13pt; font-weight: bold; }
.note { color: #3d474f; font-size: 9pt; }
section.part { break-before: page; page-break-before: always; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 3mm; font-size: 8.5pt; }
caption { text-align: left; font-weight: bold; padding: 1mm 0; }
th, td { border-bottom: 1px solid #d5dde3; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
thead th { background: #e8eef2; border-bottom: 1.5px solid #8a9aa6; }
thead { display: table-header-group; }
tfoot { display: table-row-group; }
tfoot th, tfoot td { font-weight: bold; border-top: 1.5px solid #8a9aa6; }
tr { break-inside: avoid; page-break-inside: avoid; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.status { white-space: nowrap; font-weight: bold; }
.status-achieved { color: #24663f; } .status-on_track { color: #2c6e49; } .status-off_track { color: #a12d2d; }
.status-not_aggregable, .status-no_actual, .status-no_target, .status-no_baseline { color: #5f6b73; }
.na { font-style: italic; color: #5f6b73; }
figure { margin: 2mm 0 4mm; break-inside: avoid-page; }
figcaption { font-weight: bold; margin-bottom: 1mm; }
svg.chart { width: 100%; height: auto; max-height: 95mm; }
details.chart-data > summary { font-size: 8.5pt; color: #5f6b73; list-style: none; }
.table-scroll { overflow: visible; }
.toc ol { padding-left: 7mm; margin: 1mm 0; } .toc li { margin: .6mm 0; break-inside: avoid; }
.neg { color: #a12d2d; } .neg-mark { color: #a12d2d; font-weight: bold; text-decoration: none; }
.negative-note { border-left: 3px solid #a12d2d; padding: .5mm 3mm; margin: 2mm 0; font-size: 9pt; } .negative-note ul { margin: 1mm 0; padding-left: 5mm; }
p.not-mapped { font-size: 9.5pt; }
.coverage-flag { border-left: 3px solid #b36b00; padding: .5mm 3mm; margin: 2mm 0; font-size: 9pt; } .coverage-flag ul { margin: 1mm 0; padding-left: 5mm; }
table.coverage, table.coverage-files { font-size: 7.5pt; }
a { color: inherit; text-decoration: none; }
svg.chart text { font-family: inherit; }
table.loe-summary { font-size: 8pt; }
table.loe-summary { table-layout: fixed; }
table.loe-summary col.loe { width: 27%; } table.loe-summary col.n { width: 9%; } table.loe-summary col.money { width: 16.5%; } table.loe-summary col.status { width: 6.2%; }
table.loe-summary thead tr + tr th { font-size: 6.5pt; font-weight: normal; }
table.loe-summary th, table.loe-summary td { padding: .8mm 1mm; }
table.loe-summary thead th { white-space: normal; }
.scope { color: #3d474f; font-size: 9pt; }
.ident { font-size: 7.5pt; color: #5f6b73; word-break: break-all; }
@media screen { body { padding: 8mm; } section.part { border-top: 6px solid #e8eef2; margin-top: 10mm; padding-top: 4mm; } }
"#;
