//! A hardened pull scanner over one XML document, shared by the request and response envelopes of
//! the sync SOAP channel (DESIGN §4: "XML without DTDs or entity expansion").
//!
//! It refuses a `DOCTYPE` (so no entity can be declared, and neither a billion laughs nor an
//! external entity can exist), resolves only the five predefined entities and character references,
//! refuses every other entity reference, bounds the nesting depth, and accepts UTF-8 only. It never
//! copies the document: it reports byte offsets, so that a caller can forward the original bytes
//! with small splices.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

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

/// Namespace declarations are tracked on the elements of this depth and above only: the envelope's
/// namespaces matter for `Envelope`, `Header`/`Body` and the operation element, and reading every
/// attribute of the payload would only cost time.
pub const NS_DEPTH: usize = 3;

/// The scanner.
pub struct Scanner<'i> {
    reader: Reader<&'i [u8]>,
    src: &'i str,
    depth: usize,
    roots: usize,
    /// `(depth, prefix, uri)` of the declarations in scope, on elements down to [`NS_DEPTH`].
    decls: Vec<(usize, &'i str, Cow<'i, str>)>,
}

/// A scan error: what and where (byte offset).
pub fn at(pos: u64, what: impl std::fmt::Display) -> String {
    format!("{what} (at byte {pos})")
}

impl<'i> Scanner<'i> {
    /// A scanner over a UTF-8 document.
    pub fn new(src: &'i str) -> Self {
        let mut reader = Reader::from_str(src);
        let c = reader.config_mut();
        c.check_end_names = true;
        c.trim_text(false);
        c.expand_empty_elements = false;
        Self {
            reader,
            src,
            depth: 0,
            roots: 0,
            decls: Vec::new(),
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
        // Declarations of elements that have closed (or were empty) leave scope now.
        while self.decls.last().is_some_and(|d| d.0 > self.depth) {
            self.decls.pop();
        }
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
                Event::Start(e) => {
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
                    self.declare(&e, self.depth, start)?;
                    return Ok(self.open(start, end, false));
                }
                Event::Empty(e) => {
                    if self.depth == 0 {
                        self.roots += 1;
                    }
                    self.declare(&e, self.depth + 1, start)?;
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

    /// Records the `xmlns` declarations of an element at `depth`, when it is within [`NS_DEPTH`].
    fn declare(&mut self, e: &BytesStart<'i>, depth: usize, start: usize) -> Result<(), String> {
        if depth > NS_DEPTH {
            return Ok(());
        }
        // A slice reader's events borrow from the document, so names and values found in the
        // attributes are slices of `src`: re-borrow them with its lifetime by their offsets.
        let base = self.src.as_ptr() as usize;
        let within = |p: &str| {
            let o = p.as_ptr() as usize;
            (o >= base && o + p.len() <= base + self.src.len()).then(|| o - base)
        };
        for a in e.attributes() {
            let a = a.map_err(|err| at(start as u64, format!("bad attribute: {err}")))?;
            let key = a.key.0;
            let prefix = if key == "xmlns" {
                ""
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                p
            } else {
                continue;
            };
            let Some(off) = within(key) else { continue };
            let prefix: &'i str = &self.src[off + key.len() - prefix.len()..off + key.len()];
            let uri = match a.value {
                Cow::Borrowed(v) => match within(v) {
                    Some(o) => Cow::Borrowed(&self.src[o..o + v.len()]),
                    None => Cow::Owned(v.to_string()),
                },
                Cow::Owned(v) => Cow::Owned(v),
            };
            self.decls.push((depth, prefix, uri));
        }
        Ok(())
    }

    /// The namespace of an element just opened (call before the next item). Declarations are
    /// tracked down to [`NS_DEPTH`]: deeper elements are not resolved reliably.
    pub fn namespace(&self, qname: &str) -> Ns<'_> {
        let prefix = qname.find(':').map_or("", |i| &qname[..i]);
        match self.decls.iter().rev().find(|d| d.1 == prefix) {
            Some((_, _, uri)) if uri.is_empty() => Ns::None,
            Some((_, _, uri)) => Ns::Uri(uri),
            None if prefix.is_empty() => Ns::None,
            None => Ns::UnknownPrefix,
        }
    }

    fn open(&self, start: usize, end: usize, empty: bool) -> Item<'i> {
        // The names borrow from the document itself: recover them as slices of `src`.
        let raw = &self.src.as_bytes()[start + 1..end];
        let name_len = raw
            .iter()
            .position(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/'))
            .unwrap_or(raw.len());
        // The name is ASCII-delimited, so these are char boundaries.
        let qname = &self.src[start + 1..start + 1 + name_len];
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
