//! The streaming LHEO reader: one `<formation>` at a time, as a small tree, within bounds
//! (depth, size of an event, of an offer, of the file), UTF-8 only, no DTD.
//!
//! Its own crate, without the catalogue service around it, so that the fuzz targets (`fuzz/`)
//! build it alone; the catalogue turns each tree into a programme (`lheo::mapping`).

use cafeia_catalogue_api::LheoProblem;
use quick_xml::events::Event;
use std::{
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
};
use tokio::io::{AsyncBufRead, AsyncRead, ReadBuf};

/// Deepest nesting of elements accepted.
pub const MAX_DEPTH: usize = 32;
/// Largest single XML event (a text node, a tag): 256 KiB.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;
/// Largest LHEO document read: 1 GiB (an HTTP import's body is a stream: its size is bounded
/// here).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024 * 1024;
/// Largest `<formation>` kept in memory: 2 MiB.
pub const MAX_OFFER_BYTES: usize = 2 * 1024 * 1024;

/// Counts bytes (for progress bars) and refuses any event larger than the limit, so a huge
/// text node cannot make the reader buffer it.
pub struct Guarded<R> {
    inner: R,
    since_event: usize,
    total: Arc<AtomicU64>,
}

impl<R> Guarded<R> {
    pub fn new(inner: R, total: Arc<AtomicU64>) -> Self {
        Self {
            inner,
            since_event: 0,
            total,
        }
    }

    fn next_event(&mut self) {
        self.since_event = 0;
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Guarded<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<R: AsyncBufRead + Unpin> AsyncBufRead for Guarded<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.total.load(Ordering::Relaxed) > MAX_FILE_BYTES {
            return Poll::Ready(Err(io::Error::other(format!(
                "fichier de plus de {} Mio",
                MAX_FILE_BYTES / 1024 / 1024
            ))));
        }
        if this.since_event >= MAX_EVENT_BYTES {
            return Poll::Ready(Err(io::Error::other(format!(
                "un élément ou un texte dépasse {} Kio",
                MAX_EVENT_BYTES / 1024
            ))));
        }
        Pin::new(&mut this.inner).poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        this.since_event += amt;
        this.total.fetch_add(amt as u64, Ordering::Relaxed);
        Pin::new(&mut this.inner).consume(amt);
    }
}

/// An element of one offer, kept only while that offer is read.
#[derive(Debug, Default, Clone)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Text at a `/`-separated path below this node.
    pub fn text_at(&self, path: &str) -> Option<&str> {
        let mut node = self;
        for part in path.split('/') {
            node = node.child(part)?;
        }
        let text = node.text.trim();
        (!text.is_empty()).then_some(text)
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// First descendant with this name, depth first.
    pub fn find(&self, name: &str) -> Option<&Node> {
        for c in &self.children {
            if c.name == name {
                return Some(c);
            }
            if let Some(found) = c.find(name) {
                return Some(found);
            }
        }
        None
    }
}

/// Why the whole file was refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FileError(pub String);

pub struct OfferReader<R> {
    reader: quick_xml::Reader<Guarded<R>>,
    buf: Vec<u8>,
    depth: usize,
    position: usize,
    /// The root element was `<lheo>`: a file without one is no LHEO file, an empty body
    /// included.
    rooted: bool,
}

/// The next offer: its tree, or what made it unreadable.
pub type NextOffer = Result<Node, LheoProblem>;

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    match name.rsplit_once(':') {
        Some((_, local)) => local.to_owned(),
        None => name.into_owned(),
    }
}

impl<R: AsyncBufRead + Unpin> OfferReader<R> {
    pub fn new(source: R, progress: Arc<AtomicU64>) -> Self {
        let mut reader = quick_xml::Reader::from_reader(Guarded::new(source, progress));
        let config = reader.config_mut();
        // Not trimmed here: spaces around entity references matter; values are trimmed when read.
        config.trim_text(false);
        config.expand_empty_elements = true;
        config.check_end_names = true;
        Self {
            reader,
            buf: Vec::new(),
            depth: 0,
            position: 0,
            rooted: false,
        }
    }

    /// The next `<formation>`, `Ok(None)` at the end of the file.
    pub async fn next(&mut self) -> Result<Option<NextOffer>, FileError> {
        let mut stack: Vec<Node> = Vec::new();
        let mut offer_bytes = 0usize;
        let mut problem: Option<(String, String)> = None;
        loop {
            self.buf.clear();
            self.reader.get_mut().next_event();
            let event = self
                .reader
                .read_event_into_async(&mut self.buf)
                .await
                .map_err(|e| {
                    FileError(format!(
                        "XML invalide vers l'octet {} : {e}",
                        self.reader.buffer_position()
                    ))
                })?;
            let capturing = !stack.is_empty();
            match event {
                Event::Decl(decl) => {
                    if let Some(Ok(encoding)) = decl.encoding() {
                        let encoding = String::from_utf8_lossy(&encoding).to_ascii_uppercase();
                        if encoding != "UTF-8" && encoding != "UTF8" {
                            return Err(FileError(format!(
                                "encodage {encoding} non pris en charge : UTF-8 attendu"
                            )));
                        }
                    }
                }
                Event::DocType(_) => {
                    return Err(FileError(
                        "DOCTYPE refusé : les entités et DTD ne sont pas acceptées".into(),
                    ));
                }
                Event::Start(e) => {
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err(FileError(format!(
                            "imbrication trop profonde (plus de {MAX_DEPTH} niveaux)"
                        )));
                    }
                    let name = local(e.name().as_ref());
                    if self.depth == 1 {
                        if name != "lheo" {
                            return Err(FileError(format!(
                                "élément racine <{name}> : un fichier LHEO commence par <lheo>"
                            )));
                        }
                        self.rooted = true;
                    }
                    if !capturing && name != "formation" {
                        continue;
                    }
                    let mut node = Node {
                        name: name.clone(),
                        ..Node::default()
                    };
                    for attr in e.attributes() {
                        match attr {
                            Ok(a) => match a.unescape_value() {
                                Ok(v) => {
                                    // Attributes count toward the offer's size; past the
                                    // limit nothing more is kept.
                                    offer_bytes += v.len();
                                    if offer_bytes <= MAX_OFFER_BYTES {
                                        node.attrs.push((local(a.key.as_ref()), v.into_owned()));
                                    }
                                }
                                Err(err) => {
                                    problem.get_or_insert((
                                        name.clone(),
                                        format!("attribut illisible : {err}"),
                                    ));
                                }
                            },
                            Err(err) => {
                                problem.get_or_insert((
                                    name.clone(),
                                    format!("attribut illisible : {err}"),
                                ));
                            }
                        }
                    }
                    if !capturing {
                        self.position += 1;
                    }
                    offer_bytes += e.len();
                    stack.push(node);
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    if let Some(node) = stack.pop() {
                        match stack.last_mut() {
                            Some(parent) => {
                                if offer_bytes <= MAX_OFFER_BYTES {
                                    parent.children.push(node);
                                }
                            }
                            None => {
                                let numero = node.attr("numero").map(str::to_owned);
                                if offer_bytes > MAX_OFFER_BYTES {
                                    problem.get_or_insert((
                                        "formation".into(),
                                        format!(
                                            "offre de plus de {} Mio",
                                            MAX_OFFER_BYTES / 1024 / 1024
                                        ),
                                    ));
                                }
                                return Ok(Some(match problem {
                                    Some((element, message)) => Err(LheoProblem {
                                        offer: numero,
                                        position: self.position,
                                        element,
                                        message,
                                    }),
                                    None => Ok(node),
                                }));
                            }
                        }
                    }
                }
                Event::Text(t) if capturing => {
                    offer_bytes += t.len();
                    if offer_bytes > MAX_OFFER_BYTES {
                        // Read on to the end of the offer, but hold nothing more of it.
                        continue;
                    }
                    match t.decode() {
                        Ok(text) => append(&mut stack, &text),
                        Err(e) => {
                            problem.get_or_insert((
                                stack.last().map(|n| n.name.clone()).unwrap_or_default(),
                                format!("texte illisible : {e}"),
                            ));
                        }
                    }
                }
                Event::CData(c) if capturing => {
                    offer_bytes += c.len();
                    if offer_bytes <= MAX_OFFER_BYTES {
                        append(&mut stack, &String::from_utf8_lossy(&c));
                    }
                }
                Event::GeneralRef(r) => {
                    let resolved = if r.is_char_ref() {
                        r.resolve_char_ref().ok().flatten().map(String::from)
                    } else {
                        let name = String::from_utf8_lossy(&r).into_owned();
                        quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned)
                    };
                    match resolved {
                        Some(text) if capturing => {
                            // A reference counts what it stands for, like text does.
                            offer_bytes += text.len();
                            if offer_bytes <= MAX_OFFER_BYTES {
                                append(&mut stack, &text);
                            }
                        }
                        Some(_) => {}
                        None => {
                            return Err(FileError(format!(
                                "entité inconnue &{}; : seules les entités XML prédéfinies sont acceptées",
                                String::from_utf8_lossy(&r)
                            )));
                        }
                    }
                }
                Event::Eof => {
                    if !self.rooted {
                        return Err(FileError(
                            "fichier vide : un document LHEO (<lheo>…</lheo>) est attendu".into(),
                        ));
                    }
                    if capturing || self.depth > 0 {
                        return Err(FileError(
                            "fin de fichier inattendue : document XML incomplet".into(),
                        ));
                    }
                    return Ok(None);
                }
                _ => {}
            }
        }
    }
}

fn append(stack: &mut [Node], text: &str) {
    if let Some(top) = stack.last_mut() {
        top.text.push_str(text);
    }
}

/// Parses a whole in-memory document (tests and tools).
pub async fn read_all(xml: &[u8]) -> Result<Vec<NextOffer>, FileError> {
    let mut reader = OfferReader::new(tokio::io::BufReader::new(xml), Arc::default());
    let mut out = Vec::new();
    while let Some(next) = reader.next().await? {
        out.push(next);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hostile_documents_are_refused_whole() {
        let laughs = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lheo><offres><formation numero="1"><intitule-formation>&lol2;</intitule-formation></formation></offres></lheo>"#;
        assert!(
            read_all(laughs)
                .await
                .err()
                .is_some_and(|e| e.0.contains("DOCTYPE"))
        );
        let undeclared = br#"<lheo><offres><formation numero="1"><intitule-formation>&lol;</intitule-formation></formation></offres></lheo>"#;
        assert!(
            read_all(undeclared)
                .await
                .err()
                .is_some_and(|e| e.0.contains("entité inconnue"))
        );
        let deep = format!("<lheo>{}{}</lheo>", "<a>".repeat(100), "</a>".repeat(100));
        assert!(
            read_all(deep.as_bytes())
                .await
                .err()
                .is_some_and(|e| e.0.contains("imbrication"))
        );
        let huge = format!(
            "<lheo><offres><formation numero=\"1\"><intitule-formation>{}</intitule-formation></formation></offres></lheo>",
            "x".repeat(MAX_EVENT_BYTES * 2)
        );
        assert!(
            read_all(huge.as_bytes())
                .await
                .err()
                .is_some_and(|e| e.0.contains("Kio"))
        );
        let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><lheo/>";
        assert!(
            read_all(latin1)
                .await
                .err()
                .is_some_and(|e| e.0.contains("UTF-8"))
        );
        let truncated = b"<lheo><offres><formation numero=\"1\"><intitule-formation>IA";
        assert!(read_all(truncated).await.is_err());
        assert!(
            read_all(b"")
                .await
                .err()
                .is_some_and(|e| e.0.contains("vide")),
            "an empty file is no LHEO file"
        );
        assert!(
            read_all(b"<offres/>")
                .await
                .err()
                .is_some_and(|e| e.0.contains("<lheo>")),
            "nor is another root"
        );
    }

    #[tokio::test]
    async fn an_oversized_offer_is_rejected_and_reading_goes_on() {
        let chunk = "y".repeat(200 * 1024);
        let filler: String = (0..12)
            .map(|_| format!("<contenu-formation>{chunk}</contenu-formation>"))
            .collect();
        let xml = format!(
            "<lheo><offres><formation numero=\"big\">{filler}</formation><formation numero=\"ok\"><intitule-formation>IA</intitule-formation></formation></offres></lheo>"
        );
        let offers = read_all(xml.as_bytes()).await.expect("file readable");
        assert!(
            offers[0]
                .as_ref()
                .is_err_and(|p| p.offer.as_deref() == Some("big") && p.message.contains("Mio"))
        );
        assert_eq!(
            offers[1].as_ref().map(|f| f.text_at("intitule-formation")),
            Ok(Some("IA"))
        );
    }

    #[tokio::test]
    async fn references_count_toward_the_offer_size() {
        // 5 bytes of file each, 1 of text: without counting them an offer could hold text
        // past the bound while its raw text stays under it.
        let refs = "&amp;".repeat(MAX_OFFER_BYTES + 1);
        let xml = format!(
            "<lheo><offres><formation numero=\"refs\"><intitule-formation>{refs}</intitule-formation></formation></offres></lheo>"
        );
        let offers = read_all(xml.as_bytes()).await.expect("file readable");
        assert!(
            offers[0]
                .as_ref()
                .is_err_and(|p| p.offer.as_deref() == Some("refs") && p.message.contains("Mio")),
            "an offer holding {} bytes of text was accepted",
            MAX_OFFER_BYTES + 1
        );
    }

    #[tokio::test]
    async fn predefined_entities_and_cdata_are_read() {
        let xml = br#"<lheo xmlns="http://www.lheo.org/2.2"><offres><formation numero="F&amp;1"><intitule-formation>IA &amp; travail &#233;</intitule-formation><contenu-formation><![CDATA[<b>gras</b>]]></contenu-formation></formation></offres></lheo>"#;
        let offers = read_all(xml).await.expect("valid");
        let formation = offers[0].as_ref().expect("offer");
        assert_eq!(formation.attr("numero"), Some("F&1"));
        assert_eq!(
            formation.text_at("intitule-formation"),
            Some("IA & travail é")
        );
        assert_eq!(formation.text_at("contenu-formation"), Some("<b>gras</b>"));
    }
}
