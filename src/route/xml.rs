//! A hardened pull scanner over one XML document, shared by the request and response envelopes of
//! the sync SOAP channel (DESIGN §4: "XML without DTDs or entity expansion").
//!
//! It refuses a `DOCTYPE` (so no entity can be declared, and neither a billion laughs nor an
//! external entity can exist), resolves only the five predefined entities and character references,
//! refuses every other entity reference, bounds the nesting depth, and accepts UTF-8 only. It never
//! copies the document: it reports byte offsets, so that a caller can forward the original bytes
//! with small splices.

use std::borrow::Cow;

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::{QName, ResolveResult};

/// SOAP 1.1 envelope namespace.
pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// SOAP 1.2 envelope namespace (recognized only to refuse it clearly).
pub const SOAP12_ENV: &str = "http://www.w3.org/2003/05/soap-envelope";

/// The deepest nesting accepted anywhere in a message.
pub const MAX_DEPTH: usize = 256;

/// The namespace of an element, as far as the channel cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ns<'a> {
    /// No namespace (unqualified).
    None,
    /// A namespace URI.
    Uri(&'a str),
    /// A prefix that was never declared.
    UnknownPrefix,
}

/// One step of the scan.
#[derive(Debug)]
pub enum Item<'i> {
    /// An element opens (`empty` for `<a/>`): its local name, namespace, raw prefix (with the
    /// colon, or empty), and its byte range in the document.
    Open {
        /// Local name.
        local: &'i str,
        /// The qualified name as written (`p:local`), for [`Scanner::namespace`].
        qname: &'i str,
        /// `p:` of `<p:local>`, or empty.
        prefix: &'i str,
        /// Offset of `<`.
        start: usize,
        /// Offset after `>`.
        end: usize,
        /// `<a/>`.
        empty: bool,
    },
    /// An element closes: offsets of `</` and after `>`.
    Close {
        /// Offset of `</`.
        start: usize,
        /// Offset after `>`.
        end: usize,
    },
    /// Character data (text, CDATA, or a resolved reference).
    Text(Cow<'i, str>),
    /// The end of the document.
    Eof,
}

/// The scanner.
pub struct Scanner<'i> {
    reader: NsReader<&'i [u8]>,
    src: &'i str,
    depth: usize,
    roots: usize,
}

/// A scan error: what and where (byte offset).
pub fn at(pos: u64, what: impl std::fmt::Display) -> String {
    format!("{what} (at byte {pos})")
}

impl<'i> Scanner<'i> {
    /// A scanner over a UTF-8 document.
    pub fn new(src: &'i str) -> Self {
        let mut reader = NsReader::from_str(src);
        let c = reader.config_mut();
        c.check_end_names = true;
        c.trim_text(false);
        c.expand_empty_elements = false;
        Self {
            reader,
            src,
            depth: 0,
            roots: 0,
        }
    }

    /// The current nesting depth.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The document.
    pub fn src(&self) -> &'i str {
        self.src
    }

    /// The next item, or why the document is refused.
    pub fn next_item(&mut self) -> Result<Item<'i>, String> {
        loop {
            let start = self.reader.buffer_position() as usize;
            let event = self.reader.read_event().map_err(|e| {
                at(
                    self.reader.error_position(),
                    format!("not well-formed XML: {e}"),
                )
            })?;
            let end = self.reader.buffer_position() as usize;
            match event {
                Event::Decl(d) => {
                    if let Some(Ok(enc)) = d.encoding()
                        && !enc.eq_ignore_ascii_case("utf-8")
                    {
                        return Err(at(
                            start as u64,
                            format!(
                                "the XML declaration names encoding '{enc}'; only UTF-8 is accepted"
                            ),
                        ));
                    }
                }
                Event::PI(_) | Event::Comment(_) => {}
                Event::DocType(_) => {
                    return Err(at(
                        start as u64,
                        "a DOCTYPE is not allowed: DTDs and entity declarations are refused",
                    ));
                }
                Event::Start(_) | Event::Empty(_) if self.depth == 0 && self.roots > 0 => {
                    return Err(at(start as u64, "more than one root element"));
                }
                Event::Start(_) => {
                    self.depth += 1;
                    if self.depth == 1 {
                        self.roots += 1;
                    }
                    if self.depth > MAX_DEPTH {
                        return Err(at(
                            start as u64,
                            format!("elements are nested deeper than {MAX_DEPTH} levels"),
                        ));
                    }
                    return Ok(self.open(start, end, false));
                }
                Event::Empty(_) => {
                    if self.depth == 0 {
                        self.roots += 1;
                    }
                    return Ok(self.open(start, end, true));
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(Item::Close { start, end });
                }
                Event::Text(t) => {
                    let text = t.into_inner();
                    if self.depth == 0 {
                        if !text.trim().is_empty() {
                            return Err(at(start as u64, "text outside the root element"));
                        }
                        continue;
                    }
                    return Ok(Item::Text(text));
                }
                Event::CData(c) => {
                    if self.depth == 0 {
                        return Err(at(start as u64, "CDATA outside the root element"));
                    }
                    return Ok(Item::Text(c.into_inner()));
                }
                Event::GeneralRef(r) => {
                    let name: &str = &r;
                    let text = if let Some(ch) = r.resolve_char_ref().map_err(|e| {
                        at(
                            start as u64,
                            format!("bad character reference &{name};: {e}"),
                        )
                    })? {
                        Cow::Owned(ch.to_string())
                    } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(name) {
                        Cow::Borrowed(s)
                    } else {
                        return Err(at(
                            start as u64,
                            format!(
                                "the entity reference &{name}; is not defined: only &lt; &gt; &amp; &apos; &quot; and character references are accepted"
                            ),
                        ));
                    };
                    if self.depth == 0 {
                        return Err(at(start as u64, "a reference outside the root element"));
                    }
                    return Ok(Item::Text(text));
                }
                Event::Eof => {
                    if self.roots == 0 {
                        return Err(at(start as u64, "the document has no root element"));
                    }
                    return Ok(Item::Eof);
                }
            }
        }
    }

    /// The namespace of an element just opened (call before the next item).
    pub fn namespace(&self, qname: &str) -> Ns<'_> {
        match self.reader.resolver().resolve_element(QName(qname)).0 {
            ResolveResult::Bound(n) => Ns::Uri(n.0),
            ResolveResult::Unbound => Ns::None,
            ResolveResult::Unknown(_) => Ns::UnknownPrefix,
        }
    }

    fn open(&self, start: usize, end: usize, empty: bool) -> Item<'i> {
        // The names borrow from the document itself: recover them as slices of `src`.
        let raw = &self.src[start..end];
        let name_len = raw[1..]
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(raw.len() - 1);
        let qname = &raw[1..1 + name_len];
        let (prefix, local) = match qname.find(':') {
            Some(i) => (&qname[..=i], &qname[i + 1..]),
            None => ("", qname),
        };
        Item::Open {
            local,
            qname,
            prefix,
            start,
            end,
            empty,
        }
    }

    /// Skips the rest of the element just opened (not for empty ones), checking what it holds.
    pub fn skip_element(&mut self) -> Result<(), String> {
        let target = self.depth - 1;
        loop {
            match self.next_item()? {
                Item::Close { .. } if self.depth == target => return Ok(()),
                Item::Eof => return Err("the document ends inside an element".into()),
                _ => {}
            }
        }
    }
}

/// Escapes text for element content (`<`, `>`, `&`; quotes need no escape there).
pub fn escape(s: &str) -> Cow<'_, str> {
    quick_xml::escape::partial_escape(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(src: &str) -> Result<usize, String> {
        let mut s = Scanner::new(src);
        let mut n = 0;
        loop {
            match s.next_item()? {
                Item::Eof => return Ok(n),
                _ => n += 1,
            }
        }
    }

    #[test]
    fn refuses_dtds_entities_and_deep_nesting() {
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>"#;
        assert!(all(laughs).unwrap_err().contains("DOCTYPE"));
        let xxe = r#"<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#;
        assert!(all(xxe).unwrap_err().contains("DOCTYPE"));
        assert!(all("<a>&x;</a>").unwrap_err().contains("&x;"));
        assert_eq!(all("<a>&lt;&#65;&#x42;</a>").unwrap(), 5);
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(all(&deep).unwrap_err().contains("nested"));
        assert!(all("<a></b>").is_err());
        assert!(all("<a/><b/>").unwrap_err().contains("root"));
        assert!(all("").unwrap_err().contains("no root"));
        assert!(
            all("<?xml version='1.0' encoding='windows-1251'?><a/>")
                .unwrap_err()
                .contains("UTF-8")
        );
    }

    #[test]
    fn reports_names_namespaces_and_offsets() {
        let src = r#"<s:E xmlns:s="urn:x"><b/></s:E>"#;
        let mut s = Scanner::new(src);
        match s.next_item().unwrap() {
            Item::Open {
                local,
                qname,
                prefix,
                start,
                end,
                empty,
            } => {
                assert_eq!((local, prefix, start, empty), ("E", "s:", 0, false));
                assert_eq!(s.namespace(qname), Ns::Uri("urn:x"));
                assert_eq!(&src[start..end], r#"<s:E xmlns:s="urn:x">"#);
            }
            i => panic!("{i:?}"),
        }
        match s.next_item().unwrap() {
            Item::Open {
                local,
                qname,
                empty,
                ..
            } => {
                assert_eq!((local, s.namespace(qname), empty), ("b", Ns::None, true));
            }
            i => panic!("{i:?}"),
        }
    }
}
