//! Paths of the server's files as a client sees them: never absolute. An import run's files
//! are shown relative to the deepest folder holding all of them (what the user imported: a
//! single file is its name, a folder's files are named from inside it); a statistic value's
//! origin is its file's name and row.

use serde_json::Value;

/// The folder part of every `path` and `file` string in `values` (import reports, their file
/// reports and diagnostics), then every string in them with that folder (and its separator)
/// taken out. Strings naming no file are left as they are.
pub fn relative_to_run(values: &mut [&mut Value]) {
    let mut paths = Vec::new();
    for v in values.iter() {
        collect_paths(v, &mut paths);
    }
    let Some(base) = common_folder(&paths) else { return };
    for v in values.iter_mut() {
        strip(v, &base);
    }
}

/// `file.csv:12` from `/srv/data/file.csv:12` (a statistic value's origin).
pub fn origin(origin: &str) -> String {
    file_name(origin).to_owned()
}

/// A text that may be an absolute path (the data-quality table names a file when no publisher
/// is known): its file name if it is one, else the text as it is.
pub fn shown(text: &str) -> &str {
    if is_absolute(text) { file_name(text) } else { text }
}

/// The last component of a path (either separator).
pub fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn collect_paths(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match x {
                    Value::String(s) if k == "path" || k == "file" => out.push(s.clone()),
                    _ => collect_paths(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_paths(x, out)),
        _ => {}
    }
}

/// The deepest folder (with its trailing separator) that holds every absolute path of
/// `paths`; `None` when there is none to take out.
fn common_folder(paths: &[String]) -> Option<String> {
    let abs: Vec<&str> = paths.iter().map(String::as_str).filter(|p| is_absolute(p)).collect();
    let first = *abs.first()?;
    // Folder of the first path, shortened until it holds every other one.
    let mut base = &first[..first.rfind(['/', '\\'])? + 1];
    while !abs.iter().all(|p| p.starts_with(base)) {
        let cut = base[..base.len() - 1].rfind(['/', '\\'])?;
        base = &base[..cut + 1];
    }
    Some(base.to_owned())
}

fn is_absolute(p: &str) -> bool {
    p.starts_with('/') || p.starts_with('\\') || p.get(1..3) == Some(":\\") || p.get(1..3) == Some(":/")
}

fn strip(v: &mut Value, base: &str) {
    match v {
        Value::String(s) if s.contains(base) => *s = s.replace(base, ""),
        Value::Object(m) => m.values_mut().for_each(|x| strip(x, base)),
        Value::Array(a) => a.iter_mut().for_each(|x| strip(x, base)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn run_paths_are_relative_to_the_folder_imported() {
        let mut report = json!({"file_reports": [
            {"path": "/srv/data/us-gov/a/x.xml", "error": null},
            {"path": "/srv/data/us-gov/b/y.xml", "error": "cannot read /srv/data/us-gov/b/y.xml: denied"}
        ]});
        let mut diags = json!([{"file": "/srv/data/us-gov/a/x.xml", "message": "bad date"}]);
        relative_to_run(&mut [&mut report, &mut diags]);
        assert_eq!(report["file_reports"][0]["path"], "a/x.xml");
        assert_eq!(report["file_reports"][1]["error"], "cannot read b/y.xml: denied");
        assert_eq!(diags[0]["file"], "a/x.xml");
        let mut one = json!({"file_reports": [{"path": "/home/ana/Downloads/usaid.xml"}]});
        relative_to_run(&mut [&mut one]);
        assert_eq!(one["file_reports"][0]["path"], "usaid.xml");
        let mut none = json!({"files": 0, "file_reports": []});
        relative_to_run(&mut [&mut none]);
        assert_eq!(none, json!({"files": 0, "file_reports": []}));
        assert_eq!(origin("/srv/stats/cbp.csv:12"), "cbp.csv:12");
        assert_eq!(origin("C:\\data\\cbp.csv:3"), "cbp.csv:3");
        assert_eq!(shown("/srv/x/broken.xml"), "broken.xml");
        assert_eq!(shown("U.S. Agency for International Development"), "U.S. Agency for International Development");
    }
}
