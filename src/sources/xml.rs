//! A tiny read-only XML element tree with resolved namespaces.
//!
//! Why hand-written: quick-xml gives a stream of events, not a tree, and the feed crates
//! (feed-rs and friends) drop the `arxiv:` extension elements (`primary_category`,
//! `announce_type`, `comment`, `journal_ref`, `doi`) that paperpost needs. The arXiv API
//! also writes the same namespace two ways (declared once on `<feed>` in 2026, declared on
//! every `arxiv:*` element in 2016), so elements are keyed by namespace URI and local name,
//! never by prefix. Built on quick-xml's namespace-resolving [`NsReader`]; the documents are
//! small (a feed page), so building the whole tree is cheap.
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::error::ParseError;

pub const ATOM: &str = "http://www.w3.org/2005/Atom";
pub const ARXIV: &str = "http://arxiv.org/schemas/atom";
pub const OPENSEARCH: &str = "http://a9.com/-/spec/opensearch/1.1/";
pub const DC: &str = "http://purl.org/dc/elements/1.1/";
pub const DCTERMS: &str = "http://purl.org/dc/terms/";
/// RSS 1.0 (RDF Site Summary) elements.
pub const RSS1: &str = "http://purl.org/rss/1.0/";
pub const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
pub const CONTENT: &str = "http://purl.org/rss/1.0/modules/content/";
/// PRISM, under each URI publishers' feeds declare it with.
pub const PRISM: &[&str] = &[
    "http://prismstandard.org/namespaces/basic/2.0/",
    "http://prismstandard.org/namespaces/basic/3.0/",
    "http://prismstandard.org/namespaces/1.2/basic/",
    "http://purl.org/rss/1.0/modules/prism/",
];
/// RSS 2.0 elements are in no namespace.
pub const NONE: &str = "";

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Element {
    /// Namespace URI, empty when unbound.
    pub ns: String,
    pub name: String,
    /// (namespace URI, local name, value); unprefixed attributes have no namespace.
    pub attrs: Vec<(String, String, String)>,
    pub children: Vec<Element>,
    /// The element's own text (CDATA and entities resolved), not its children's.
    pub text: String,
}

impl Element {
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    pub fn children<'a>(&'a self, ns: &'a str, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// The text of the first such child, if it has any non-blank text.
    pub fn child_text(&self, ns: &str, name: &str) -> Option<&str> {
        self.child(ns, name)
            .map(|c| c.text.as_str())
            .filter(|t| !t.trim().is_empty())
    }

    /// An attribute in no namespace (`term`, `href`, `rel`…).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(ns, n, _)| ns.is_empty() && n == name)
            .map(|(_, _, v)| v.as_str())
    }
}

/// How deep elements may nest. Real feeds nest 4 levels; the tree is dropped (and walked)
/// recursively, so a document nested tens of thousands deep would overflow the stack.
pub const MAX_DEPTH: usize = 256;

/// Parses a whole document into its root element. Elements nested deeper than
/// [`MAX_DEPTH`] are refused where the first one too deep starts.
pub fn parse(doc: &str) -> Result<Element, ParseError> {
    let mut reader = NsReader::from_str(doc);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        // Where the event starts: errors about an element or text point there.
        let pos = reader.buffer_position();
        let event = match reader.read_resolved_event() {
            Ok((ns, event)) => (ns_string(&ns), event),
            Err(e) => return Err(error_at(doc, reader.error_position(), e.to_string())),
        };
        match event {
            (ns, Event::Start(start)) => {
                if stack.len() >= MAX_DEPTH {
                    let message =
                        format!("elements nested deeper than {MAX_DEPTH} levels (the depth limit)");
                    return Err(error_at(doc, pos, message));
                }
                let el = open(&reader, ns, &start).map_err(|m| error_at(doc, pos, m))?;
                stack.push(el);
            }
            (ns, Event::Empty(start)) => {
                let el = open(&reader, ns, &start).map_err(|m| error_at(doc, pos, m))?;
                close(el, &mut stack, &mut root).map_err(|m| error_at(doc, pos, m))?;
            }
            (_, Event::End(_)) => {
                let Some(el) = stack.pop() else {
                    return Err(error_at(
                        doc,
                        pos,
                        "an end tag without its start tag".into(),
                    ));
                };
                close(el, &mut stack, &mut root).map_err(|m| error_at(doc, pos, m))?;
            }
            (_, Event::Text(t)) => push_text(&mut stack, &t.xml10_content(), doc, pos)?,
            (_, Event::CData(t)) => push_text(&mut stack, &t.xml10_content(), doc, pos)?,
            (_, Event::GeneralRef(r)) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => match &*r {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        // Undeclared entities (HTML ones in a sloppy feed) are kept as written.
                        other => format!("&{other};"),
                    },
                    Err(e) => return Err(error_at(doc, pos, e.to_string())),
                };
                push_text(&mut stack, &resolved, doc, pos)?;
            }
            (_, Event::Eof) => break,
            _ => {} // declaration, comments, processing instructions, doctype
        }
    }
    if let Some(open) = stack.last() {
        return Err(error_at(
            doc,
            doc.len() as u64,
            format!("document ends inside <{}>", open.name),
        ));
    }
    root.ok_or_else(|| error_at(doc, doc.len() as u64, "no root element".into()))
}

fn ns_string(ns: &ResolveResult<'_>) -> String {
    match ns {
        ResolveResult::Bound(n) => n.0.to_string(),
        _ => String::new(),
    }
}

fn open(reader: &NsReader<&[u8]>, ns: String, start: &BytesStart<'_>) -> Result<Element, String> {
    let mut el = Element {
        ns,
        name: start.local_name().as_ref().to_string(),
        ..Element::default()
    };
    for attr in start.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        if attr.key.as_ref() == "xmlns" || attr.key.as_ref().starts_with("xmlns:") {
            continue;
        }
        let (ans, local) = reader.resolver().resolve_attribute(attr.key);
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?;
        el.attrs.push((
            ns_string(&ans),
            local.as_ref().to_string(),
            value.into_owned(),
        ));
    }
    Ok(el)
}

fn close(el: Element, stack: &mut [Element], root: &mut Option<Element>) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None if root.is_none() => *root = Some(el),
        None => return Err(format!("a second root element <{}>", el.name)),
    }
    Ok(())
}

fn push_text(stack: &mut [Element], text: &str, doc: &str, pos: u64) -> Result<(), ParseError> {
    match stack.last_mut() {
        Some(el) => el.text.push_str(text),
        None if text.trim().is_empty() => {}
        None => {
            let shown: String = text.trim().chars().take(40).collect();
            // Point at the first non-blank character of the stray text.
            let from = (pos as usize).min(doc.len());
            let lead = doc
                .get(from..)
                .and_then(|rest| rest.find(|c: char| !c.is_whitespace()))
                .unwrap_or(0);
            let message = format!("text outside the root element: {shown:?}");
            return Err(error_at(doc, pos + lead as u64, message));
        }
    }
    Ok(())
}

/// Line and column (1-based, in characters) of a byte offset.
pub fn line_column(doc: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(doc.len());
    while !doc.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &doc[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn error_at(doc: &str, offset: u64, message: String) -> ParseError {
    let (line, column) = line_column(doc, offset as usize);
    ParseError::Xml {
        line,
        column,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_resolved_whatever_the_prefix() {
        let a = parse(r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom"><arxiv:doi>1</arxiv:doi></feed>"#).unwrap();
        let b = parse(r#"<feed xmlns="http://www.w3.org/2005/Atom"><x:doi xmlns:x="http://arxiv.org/schemas/atom">1</x:doi></feed>"#).unwrap();
        assert!(a.is(ATOM, "feed"));
        assert_eq!(a.child_text(ARXIV, "doi"), Some("1"));
        assert_eq!(b.child_text(ARXIV, "doi"), Some("1"));
    }

    #[test]
    fn entities_and_cdata_become_text() {
        let e = parse(
            "<a t=\"x &amp; y\">Gould &amp; Morgan &lt;3 &#233;&#x41; &nbsp;<![CDATA[<b>]]></a>",
        )
        .unwrap();
        assert_eq!(e.text, "Gould & Morgan <3 éA &nbsp;<b>");
        assert_eq!(e.attr("t"), Some("x & y"));
    }

    #[test]
    fn a_document_nested_past_the_limit_is_refused_without_overflowing() {
        let ok = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        for depth in [MAX_DEPTH + 1, 60_000] {
            let deep = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
            let e = parse(&deep).unwrap_err();
            assert!(e.to_string().contains("deeper than 256 levels"), "{e}");
            assert!(
                matches!(e, ParseError::Xml { column, .. } if column == 3 * MAX_DEPTH + 1),
                "{e:?}"
            );
        }
        for stray in ["</a>", "<a></a></b>", "é</a>"] {
            assert!(parse(stray).is_err(), "{stray}");
        }
        // Unclosed, and self-closing leaves: the same.
        let open = "<a>".repeat(60_000);
        assert!(
            parse(&open)
                .unwrap_err()
                .to_string()
                .contains("depth limit")
        );
    }

    #[test]
    fn errors_say_line_and_column() {
        let cases = [
            ("<a>\n  <b></c>\n</a>", 2, "b"),
            ("<a>\n<b>", 2, "document ends inside <b>"),
            ("hello", 1, "text outside the root element"),
            ("", 1, "no root element"),
            ("<a/><b/>", 1, "second root"),
        ];
        for (doc, line, what) in cases {
            let e = parse(doc).unwrap_err();
            match &e {
                ParseError::Xml {
                    line: l, message, ..
                } => {
                    assert_eq!(*l, line, "{doc:?}: {e}");
                    assert!(message.contains(what), "{doc:?}: {e}");
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        let e = parse("  \n  not xml").unwrap_err();
        assert!(
            matches!(
                e,
                ParseError::Xml {
                    line: 2,
                    column: 3,
                    ..
                }
            ),
            "{e}"
        );
    }
}
