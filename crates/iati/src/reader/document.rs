//! The document around the activities: the root element `iati-activities` (its version,
//! generation time and namespaces), what may come before and after it, elements under it that
//! are not activities, and the XML errors that reject a file.

use super::*;

impl<R: BufRead> ActivityReader<R> {
    /// The fatal error for an error quick-xml or the checked stream reported (a forbidden
    /// character, bytes that are not UTF-8, XML that is not well-formed), at its position.
    pub(super) fn xml_error(&self, e: quick_xml::Error) -> FatalError {
        if let quick_xml::Error::Io(io) = &e
            && let Some(c) = io.get_ref().and_then(|i| i.downcast_ref::<ForbiddenCharacter>())
        {
            if c.code == 0xFFFD {
                return FatalError {
                    code: "not-well-formed",
                    message: "bytes that are not valid in the file's encoding (a decoder can only make U+FFFD of them): the file is damaged, or its encoding declaration is wrong".into(),
                    offset: c.offset,
                };
            }
            let what = if c.code < 0x20 { "control character" } else { "noncharacter" };
            return FatalError {
                code: "not-well-formed",
                message: format!(
                    "{what} U+{:04X} in the file: XML 1.0 does not allow it anywhere, not even as text (remove it, or check that the file is really XML text)",
                    c.code
                ),
                offset: c.offset,
            };
        }
        if let quick_xml::Error::Io(io) = &e
            && let Some(u) = io.get_ref().and_then(|i| i.downcast_ref::<NotUtf8>())
        {
            let bytes: Vec<String> = u.bytes.iter().map(|b| format!("{b:02X}")).collect();
            let bytes = bytes.join(" ");
            let message = if u.end {
                format!(
                    "the file ends inside a UTF-8 character (bytes {bytes}): it was cut short (an incomplete download or copy?)"
                )
            } else {
                format!(
                    "the text is not valid UTF-8 here (bytes {bytes}): check the file's encoding (a file saved as Latin-1 or Windows-1252 must say so: <?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>)"
                )
            };
            return FatalError { code: "not-well-formed", message, offset: u.offset };
        }
        FatalError {
            code: "not-well-formed",
            message: format!("XML is not well-formed: {e}"),
            offset: self.reader.error_position(),
        }
    }

    pub(super) fn file_diag(&mut self, severity: Severity, code: &str, message: String, offset: u64) {
        let d = self.new_diag(severity, code, message, offset, None, Some("iati-activities".into()));
        self.file_diagnostics.push(d);
    }

    /// The next activity, `Ok(None)` at the end of the document, or the fatal error that
    /// rejects the file.
    pub fn next_activity(&mut self) -> Result<Option<ParsedActivity>, FatalError> {
        if self.done {
            return Ok(None);
        }
        loop {
            let pos = self.reader.buffer_position();
            self.buf.clear();
            let ev = match self.reader.read_event_into(&mut self.buf) {
                Ok(ev) => ev.into_owned(),
                Err(e) => return Err(self.xml_error(e)),
            };
            let empty_root = matches!(ev, Event::Empty(_));
            if self.root_closed {
                let stray = match &ev {
                    Event::Text(t) => t.iter().any(|b| !is_xml_space(*b)),
                    Event::Comment(_) | Event::PI(_) | Event::Eof => false,
                    _ => true,
                };
                if stray {
                    let what = match &ev {
                        Event::Start(e) | Event::Empty(e) => {
                            format!("element <{}>", String::from_utf8_lossy(e.name().as_ref()))
                        }
                        Event::End(e) => format!("end tag </{}>", String::from_utf8_lossy(e.name().as_ref())),
                        Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => "text".into(),
                        _ => "markup".into(),
                    };
                    return Err(FatalError {
                        code: "not-well-formed",
                        message: format!("{what} after </iati-activities>: an XML file has one root element"),
                        offset: pos,
                    });
                }
            }
            if let Event::Decl(_) = &ev
                && pos > 0
            {
                // The XML declaration may only open the file (XML 1.0, section 2.8).
                return Err(FatalError {
                    code: "not-well-formed",
                    message: "an XML declaration (<?xml ...?>) that is not at the very start of the file".into(),
                    offset: pos,
                });
            }
            if !self.root_seen
                && let Event::Text(t) = &ev
                && let Some(i) = t.iter().position(|b| !is_xml_space(*b))
            {
                // Only white space, comments and processing instructions may come before the root
                // element (a second byte-order mark is text: U+FEFF).
                let first = String::from_utf8_lossy(&t[i..]).chars().next().unwrap_or('?');
                return Err(FatalError {
                    code: "not-well-formed",
                    message: format!(
                        "text before the root element (starting with U+{:04X}{}): only white space may come before <iati-activities>",
                        u32::from(first),
                        if first == '\u{feff}' { ", a second byte-order mark" } else { "" }
                    ),
                    offset: pos + i as u64,
                });
            }
            forbidden_reference(&ev, pos)?;
            match ev {
                Event::DocType(d) => {
                    let raw = String::from_utf8_lossy(&d);
                    if raw.contains("<!ENTITY") {
                        return Err(FatalError {
                            code: "entity-declaration",
                            message: "the DOCTYPE declares entities: Senda never expands or fetches XML entities (IATI files do not need them)".into(),
                            offset: pos,
                        });
                    }
                    self.file_diag(
                        Severity::Warning,
                        "doctype-ignored",
                        "DOCTYPE ignored (IATI files do not need one)".into(),
                        pos,
                    );
                }
                Event::Start(e) | Event::Empty(e) if !self.root_seen => {
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    if name != "iati-activities" {
                        return Err(FatalError {
                            code: "not-iati",
                            message: format!(
                                "root element is <{name}>, expected <iati-activities> (an IATI activity file)"
                            ),
                            offset: pos,
                        });
                    }
                    self.root_seen = true;
                    // quick-xml's own duplicate check is quadratic: the count is bounded first.
                    let mut keys: Vec<String> = Vec::new();
                    for a in e.attributes().with_checks(false) {
                        let a = a.map_err(|e| FatalError {
                            code: "not-well-formed",
                            message: format!("bad attribute: {e}"),
                            offset: pos,
                        })?;
                        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                        if keys.len() >= MAX_ATTRIBUTES {
                            return Err(too_many_attributes(pos));
                        }
                        if keys.contains(&key) {
                            return Err(FatalError {
                                code: "not-well-formed",
                                message: format!(
                                    "XML is not well-formed: attribute {key} appears twice in one element"
                                ),
                                offset: pos,
                            });
                        }
                        keys.push(key.clone());
                        let val = a.unescape_value().map(|v| v.into_owned()).unwrap_or_default();
                        if key == "version" {
                            self.version = Some(CompactString::from(val.trim_ws())).filter(|v| !v.is_empty());
                        } else if key == "generated-datetime" {
                            let mut norm = String::new();
                            if senda_core::codes::normalise_datetime_into(&val, &mut norm) {
                                self.generated = Some(norm.into());
                            } else {
                                self.file_diag(
                                    Severity::Warning,
                                    "invalid-datetime",
                                    format!("generated-datetime \"{val}\" is not an ISO 8601 date-time: ignored"),
                                    pos,
                                );
                            }
                        } else if let Some(p) = key.strip_prefix("xmlns:") {
                            self.namespaces.push((p.to_owned(), val.as_str().into()));
                        }
                    }
                    if empty_root {
                        self.root_closed = true;
                    }
                }
                Event::Start(e) if e.name().as_ref() == b"iati-activity" => {
                    return self.read_activity(e, pos, false).map(Some);
                }
                Event::Empty(e) if e.name().as_ref() == b"iati-activity" => {
                    return self.read_activity(e, pos, true).map(Some);
                }
                Event::Start(e) => {
                    // Another element under the root: read past it, saying so (its content,
                    // activities included, is not read).
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    let inside = self.skip_subtree()?;
                    self.stray_under_root(&name, inside, pos);
                }
                Event::Empty(e) if self.root_seen && !self.root_closed => {
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    self.stray_under_root(&name, 0, pos);
                }
                Event::Eof => {
                    self.done = true;
                    if !self.root_seen {
                        return Err(FatalError {
                            code: "not-iati",
                            message: "no XML element found: expected an <iati-activities> document".into(),
                            offset: pos,
                        });
                    }
                    if !self.root_closed {
                        return Err(FatalError {
                            code: "not-well-formed",
                            message:
                                "unexpected end of file: <iati-activities> is never closed (is the file truncated?)"
                                    .into(),
                            offset: pos,
                        });
                    }
                    return Ok(None);
                }
                Event::End(_) => {
                    // The root closes: the rest of the file is read to check that nothing but
                    // comments and white space follows.
                    self.root_closed = true;
                }
                _ => {}
            }
        }
    }

    /// Reports an element found directly under `<iati-activities>` that is not an
    /// `<iati-activity>` (skipped): a warning, or an error when `activities` activities sat
    /// inside it (they are not read: IATI puts them directly under the root).
    fn stray_under_root(&mut self, name: &str, activities: u64, pos: u64) {
        if activities > 0 {
            self.activities_not_read += activities;
            self.root_child_diag(
                name,
                Severity::Error,
                "activity-not-under-root",
                format!(
                    "<{name}> under <iati-activities> holds {activities} <iati-activity> element(s): not read (activities must sit directly under <iati-activities>), their money is not counted"
                ),
                pos,
            );
        } else {
            self.root_child_diag(
                name,
                Severity::Warning,
                "unexpected-element",
                format!("<{name}> directly under <iati-activities> is not an <iati-activity>: skipped"),
                pos,
            );
        }
    }

    fn root_child_diag(&mut self, name: &str, severity: Severity, code: &str, message: String, offset: u64) {
        let d = self.new_diag(severity, code, message, offset, None, Some(format!("iati-activities/{name}")));
        self.file_diagnostics.push(d);
    }

    /// Reads past the element just opened; returns how many `<iati-activity>` elements it held.
    fn skip_subtree(&mut self) -> Result<u64, FatalError> {
        let mut depth = 1u32;
        let mut activities = 0u64;
        while depth > 0 {
            self.buf.clear();
            let pos = self.reader.buffer_position();
            let ev = self.reader.read_event_into(&mut self.buf);
            if let Ok(ev) = &ev {
                forbidden_reference(ev, pos)?;
            }
            match ev {
                Ok(Event::Start(e)) => {
                    depth += 1;
                    activities += u64::from(e.name().as_ref() == b"iati-activity");
                }
                Ok(Event::Empty(e)) => activities += u64::from(e.name().as_ref() == b"iati-activity"),
                Ok(Event::End(_)) => depth -= 1,
                Ok(Event::Eof) => {
                    return Err(FatalError {
                        code: "not-well-formed",
                        message: "unexpected end of file".into(),
                        offset: self.reader.buffer_position(),
                    });
                }
                Ok(_) => {}
                Err(e) => return Err(self.xml_error(e)),
            }
        }
        Ok(activities)
    }
}
