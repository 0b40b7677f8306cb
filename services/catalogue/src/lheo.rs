//! LHEO (Langage Harmonisé d'Échange d'informations sur l'Offre de formation) import and
//! export: `lheo > offres > formation > action > session`, with
//! `organisme-formation-responsable`, plus our own values in `extras[@info="cafeia"]` so an
//! export imports back unchanged.
//!
//! The reader streams: it holds one `<formation>` at a time (bounded), refuses DTDs (so no
//! entity expansion, no billion laughs), bounds nesting depth and the size of any single XML
//! event, and accepts UTF-8 only. A bad offer is reported and skipped; a malformed or hostile
//! file stops the import and nothing is written (one transaction).

use crate::{
    domain::ProviderKind,
    domain::{
        self, Accessibility, Audience, Enrolment, Format, Funding, Level, Pace, SessionInput,
        TrainingInput,
    },
    messages, providers,
    storage::{provider, training},
    store::{self, Full},
};
use cafeia_platform::{
    AppError, audit, errors::FieldError, territory::Gazetteer, validation::wire_name,
};
use chrono::{NaiveDate, Utc};
use quick_xml::events::Event;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter,
};
use serde::Serialize;
use std::{
    collections::HashMap,
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
};
use tokio::io::{AsyncBufRead, AsyncRead, ReadBuf};
use uuid::Uuid;

pub const MAX_DEPTH: usize = 32;
/// Largest single XML event (a text node, a tag): 256 KiB.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;
/// Largest LHEO document read: 1 GiB (an HTTP import's body is a stream: its size is bounded
/// here).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024 * 1024;
/// Largest `<formation>` kept in memory: 2 MiB.
pub const MAX_OFFER_BYTES: usize = 2 * 1024 * 1024;
const MAX_REPORTED: usize = 1000;

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

/// One problem with one offer: which element, why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct OfferProblem {
    /// `formation/@numero`, when the offer has one.
    pub offer: Option<String>,
    /// 1-based position of the offer in the file.
    pub position: usize,
    /// The LHEO element at fault, e.g. `action/session[2]/periode/fin`.
    pub element: String,
    pub message: String,
}

pub struct OfferReader<R> {
    reader: quick_xml::Reader<Guarded<R>>,
    buf: Vec<u8>,
    depth: usize,
    position: usize,
}

/// The next offer: its tree, or what made it unreadable.
pub type NextOffer = Result<Node, OfferProblem>;

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
                                    Some((element, message)) => Err(OfferProblem {
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
                        Some(text) if capturing => append(&mut stack, &text),
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

/// An offer read from LHEO, ready to validate.
pub struct Offer {
    pub lheo_id: String,
    pub provider: ProviderDraft,
    pub training: TrainingInput,
}

pub struct ProviderDraft {
    pub siret: String,
    pub name: String,
    pub email: Option<String>,
    pub website: Option<String>,
}

fn extra<'a>(formation: &'a Node, key: &str) -> Option<&'a str> {
    formation
        .children_named("extras")
        .filter(|e| e.attr("info") == Some("cafeia"))
        .flat_map(|e| e.children_named("extra"))
        .find(|x| x.attr("info") == Some(key))
        .map(|x| x.text.trim())
        .filter(|t| !t.is_empty())
}

fn parse_enum<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

fn parse_list<T: serde::de::DeserializeOwned>(
    text: Option<&str>,
    element: &str,
    problems: &mut Vec<(String, String)>,
) -> Vec<T> {
    let mut out = Vec::new();
    for value in text
        .unwrap_or_default()
        .split('|')
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        match parse_enum(value) {
            Some(v) => out.push(v),
            None => problems.push((element.to_owned(), format!("valeur inconnue : {value:?}"))),
        }
    }
    out
}

fn lheo_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y%m%d").ok()
}

/// The LHEO element an API field comes from, for the report.
fn element_of(field: &str) -> String {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    let index = field
        .split_once('[')
        .and_then(|(_, rest)| rest.split(']').next())
        .unwrap_or("");
    match base {
        "title" => "intitule-formation".into(),
        "objectives" => "objectif-formation".into(),
        "content" => "contenu-formation".into(),
        "duration_hours" => "action/nombre-heures-total".into(),
        "price_eur" => "action/prix-total-TTC".into(),
        "certification" => "certification".into(),
        "contact_email" => "contact-formation/coordonnees/courriel".into(),
        "enrolment_url" => "action/url-action/urlweb".into(),
        "places" => "action/lieu-de-formation".into(),
        "languages" => "action/langue-formation".into(),
        "sessions" => {
            let part = if field.ends_with("end_date") {
                "/periode/fin"
            } else {
                ""
            };
            format!(
                "action/session[{}]{part}",
                index.parse::<usize>().map(|i| i + 1).unwrap_or(1)
            )
        }
        other => format!("extras/extra[@info=\"{other}\"]"),
    }
}

/// Reads our programme out of an offer's tree (without validating it yet).
pub fn interpret(formation: &Node, position: usize) -> Result<Offer, Vec<OfferProblem>> {
    let lheo_id = formation
        .attr("numero")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    let mut problems: Vec<(String, String)> = Vec::new();
    if lheo_id.is_none() {
        problems.push((
            "formation/@numero".into(),
            "identifiant d'offre obligatoire".into(),
        ));
    }
    if lheo_id.as_ref().is_some_and(|id| id.chars().count() > 255) {
        problems.push((
            "formation/@numero".into(),
            "identifiant de plus de 255 caractères".into(),
        ));
    }
    let organisme = formation
        .child("organisme-formation-responsable")
        .or_else(|| {
            formation
                .children_named("action")
                .find_map(|a| a.child("organisme-formation-responsable"))
        });
    let provider = match organisme {
        Some(o) => {
            let siret = o
                .text_at("SIRET-organisme-formation/SIRET")
                .or_else(|| o.find("SIRET").map(|n| n.text.trim()))
                .unwrap_or_default()
                .replace(' ', "");
            if !cafeia_platform::validation::valid_siret(&siret) {
                problems.push((
                    "organisme-formation-responsable/SIRET-organisme-formation/SIRET".into(),
                    "SIRET invalide (14 chiffres, clé Luhn)".into(),
                ));
            }
            let name = o
                .text_at("nom-organisme")
                .or_else(|| o.text_at("raison-sociale"))
                .unwrap_or_default()
                .to_owned();
            if name.is_empty() {
                problems.push((
                    "organisme-formation-responsable/nom-organisme".into(),
                    "obligatoire".into(),
                ));
            }
            ProviderDraft {
                siret,
                name,
                email: o
                    .find("courriel")
                    .map(|n| n.text.trim().to_owned())
                    .filter(|s| !s.is_empty()),
                website: o
                    .find("urlweb")
                    .map(|n| n.text.trim().to_owned())
                    .filter(|s| !s.is_empty()),
            }
        }
        None => {
            problems.push((
                "organisme-formation-responsable".into(),
                "organisme responsable obligatoire".into(),
            ));
            ProviderDraft {
                siret: String::new(),
                name: String::new(),
                email: None,
                website: None,
            }
        }
    };
    let actions: Vec<&Node> = formation.children_named("action").collect();
    if actions.is_empty() {
        problems.push(("action".into(), "au moins une action de formation".into()));
    }
    let modalites = actions
        .first()
        .and_then(|a| a.text_at("modalites-enseignement"));
    let lheo_format = match modalites {
        Some("0") | None => Format::InPerson,
        Some("1") => Format::Hybrid,
        Some("2") => Format::Online,
        Some(other) => {
            problems.push((
                "action/modalites-enseignement".into(),
                format!("valeur inconnue : {other:?} (0, 1 ou 2)"),
            ));
            Format::InPerson
        }
    };
    let format = extra(formation, "format")
        .and_then(parse_enum)
        .unwrap_or(lheo_format);
    let gazetteer = Gazetteer::get();
    let mut places = Vec::new();
    let mut sessions = Vec::new();
    let mut duration = None;
    let mut price = None;
    let mut enrolment_url = None;
    let mut lheo_language = None;
    for (a, action) in actions.iter().enumerate() {
        let insee = action.child("lieu-de-formation").and_then(|lieu| {
            lieu.find("code-INSEE-commune")
                .map(|n| n.text.trim().to_owned())
                .filter(|s| !s.is_empty())
                .or_else(|| {
                    let postcode = lieu.find("codepostal")?.text.trim().to_owned();
                    let communes: Vec<_> = gazetteer
                        .by_postcode(&postcode)
                        .into_iter()
                        .filter(|c| c.kind == cafeia_platform::territory::CommuneKind::Commune)
                        .collect();
                    (communes.len() == 1).then(|| communes[0].insee.clone())
                })
        });
        if action.child("lieu-de-formation").is_some() && insee.is_none() {
            problems.push((
                format!("action[{}]/lieu-de-formation", a + 1),
                "commune introuvable (code INSEE ou code postal non ambigu attendu)".into(),
            ));
        }
        if let Some(code) = &insee {
            places.push(code.clone());
        }
        if duration.is_none() {
            duration = action
                .text_at("nombre-heures-total")
                .or_else(|| action.text_at("duree-indicative"))
                .map(str::to_owned);
        }
        if price.is_none() {
            price = action.text_at("prix-total-TTC").map(str::to_owned);
        }
        if enrolment_url.is_none() {
            enrolment_url = action.text_at("url-action/urlweb").map(str::to_owned);
        }
        if lheo_language.is_none() {
            lheo_language = action.text_at("langue-formation").map(str::to_owned);
        }
        for (s, session) in action.children_named("session").enumerate() {
            let element = format!("action[{}]/session[{}]", a + 1, s + 1);
            let start = session.text_at("periode/debut").and_then(lheo_date);
            let end = session.text_at("periode/fin").and_then(lheo_date);
            let (Some(start), Some(end)) = (start, end) else {
                problems.push((
                    format!("{element}/periode"),
                    "dates AAAAMMJJ attendues (debut, fin)".into(),
                ));
                continue;
            };
            let enrolment = match session.text_at("etat-recrutement") {
                Some("1") | None => Enrolment::Open,
                Some("2") => Enrolment::Closed,
                Some("3") => Enrolment::Suspended,
                Some(other) => {
                    problems.push((
                        format!("{element}/etat-recrutement"),
                        format!("valeur inconnue : {other:?} (1, 2 ou 3)"),
                    ));
                    continue;
                }
            };
            sessions.push(SessionInput {
                lheo_id: session.attr("numero").map(str::to_owned),
                start_date: start,
                end_date: end,
                enrolment,
                insee: insee.clone(),
            });
        }
    }
    let duration_hours = match duration
        .as_deref()
        .map(|d| d.replace(',', ".").parse::<f64>())
    {
        Some(Ok(h)) if h.is_finite() => h.round() as i32,
        Some(_) => {
            problems.push((
                "action/nombre-heures-total".into(),
                "nombre d'heures illisible".into(),
            ));
            0
        }
        None => {
            problems.push((
                "action/nombre-heures-total".into(),
                "durée obligatoire".into(),
            ));
            0
        }
    };
    let price_eur = match price.as_deref().map(|p| p.replace(',', ".").parse::<f64>()) {
        Some(Ok(p)) if p.is_finite() => Some(p),
        Some(_) => {
            problems.push(("action/prix-total-TTC".into(), "prix illisible".into()));
            None
        }
        None => None,
    };
    let free = match extra(formation, "free") {
        Some(v) => v == "1" || v == "true",
        None => price_eur.is_none_or(|p| p == 0.0),
    };
    let certification = formation
        .text_at("certification/code-RNCP")
        .map(|c| format!("RNCP{}", c.trim_start_matches("RNCP")))
        .or_else(|| {
            formation
                .text_at("certification/code-RS")
                .map(|c| format!("RS{}", c.trim_start_matches("RS")))
        });
    let languages: Vec<String> = match extra(formation, "languages") {
        Some(list) => list.split('|').map(str::to_owned).collect(),
        None => vec![lheo_language.unwrap_or_else(|| "fr".into())],
    };
    let objectives = formation
        .text_at("objectif-formation")
        .unwrap_or_default()
        .to_owned();
    let summary = extra(formation, "summary")
        .map(str::to_owned)
        .unwrap_or_else(|| objectives.chars().take(300).collect());
    let level = match extra(formation, "level") {
        Some(v) => parse_enum(v).unwrap_or_else(|| {
            problems.push((
                "extras/extra[@info=\"level\"]".into(),
                format!("valeur inconnue : {v:?}"),
            ));
            Level::Beginner
        }),
        None => Level::Beginner,
    };
    let pace = match extra(formation, "pace") {
        Some(v) => parse_enum(v).unwrap_or_else(|| {
            problems.push((
                "extras/extra[@info=\"pace\"]".into(),
                format!("valeur inconnue : {v:?}"),
            ));
            Pace::Scheduled
        }),
        None if sessions.is_empty() => Pace::SelfPaced,
        None => Pace::Scheduled,
    };
    let mut audiences: Vec<Audience> = parse_list(
        extra(formation, "audiences"),
        "extras/extra[@info=\"audiences\"]",
        &mut problems,
    );
    if extra(formation, "audiences").is_none() {
        audiences.push(Audience::GeneralPublic);
    }
    let topics: Vec<String> = match extra(formation, "topics") {
        Some(list) => list
            .split('|')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        None => vec!["what_is_ai".into()],
    };
    let accessibility: Vec<Accessibility> = parse_list(
        extra(formation, "accessibility"),
        "extras/extra[@info=\"accessibility\"]",
        &mut problems,
    );
    let funding: Vec<Funding> = parse_list(
        extra(formation, "funding"),
        "extras/extra[@info=\"funding\"]",
        &mut problems,
    );
    let online = extra(formation, "online")
        .map(|v| v == "1" || v == "true")
        .unwrap_or(format == Format::Online);
    if !problems.is_empty() {
        return Err(problems
            .into_iter()
            .map(|(element, message)| OfferProblem {
                offer: lheo_id.clone(),
                position,
                element,
                message,
            })
            .collect());
    }
    Ok(Offer {
        lheo_id: lheo_id.unwrap_or_default(),
        provider,
        training: TrainingInput {
            provider_siret: None,
            title: formation
                .text_at("intitule-formation")
                .unwrap_or_default()
                .to_owned(),
            summary,
            objectives,
            content: formation
                .text_at("contenu-formation")
                .unwrap_or_default()
                .to_owned(),
            level,
            audiences,
            format,
            pace,
            duration_hours,
            free,
            price_eur: if free { None } else { price_eur },
            funding,
            certification,
            languages,
            accessibility,
            topics,
            online,
            places,
            sessions,
            enrolment_url,
            contact_email: formation
                .text_at("contact-formation/coordonnees/courriel")
                .map(str::to_owned),
        },
    })
}

/// The end-of-import summary.
#[derive(Debug, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Summary {
    pub offers: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
    /// At most 1000 problems are listed; `rejected` counts them all.
    pub problems: Vec<OfferProblem>,
}

impl Summary {
    fn reject(&mut self, problems: Vec<OfferProblem>) {
        self.rejected += 1;
        for p in problems {
            if self.problems.len() < MAX_REPORTED {
                self.problems.push(p);
            }
        }
    }
}

/// Offers written together: a few statements per table per batch. Per-statement overhead
/// dominates on PostgreSQL (2,000 offers a batch measured 1.5× faster than 500).
const BATCH: usize = 2000;

struct Pending {
    offer: Offer,
    draft: domain::TrainingDraft,
}

/// Imports an LHEO stream in one transaction. Offers become published programmes (the import is
/// staff's review); an identical offer changes nothing and publishes nothing.
pub async fn import<R: AsyncBufRead + Unpin>(
    db: &DatabaseConnection,
    actor: &str,
    source: R,
    progress: Arc<AtomicU64>,
) -> Result<Summary, AppError> {
    let mut reader = OfferReader::new(source, progress);
    let mut summary = Summary::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut providers_by_siret: HashMap<String, provider::Model> = HashMap::new();
    let mut batch: Vec<Pending> = Vec::with_capacity(BATCH);
    let txn = cafeia_platform::db::begin(db).await?;
    if cafeia_platform::db::is_postgres(db) {
        // The tables grow a lot within this one transaction: a plan cached while they were
        // small (sequential scans) would make every later batch slower. Plan each time.
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
            .await?;
    }
    loop {
        let next = match reader.next().await {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(FileError(why)) => {
                // The transaction is dropped: nothing from this file is kept.
                return Err(AppError::invalid("file", why));
            }
        };
        summary.offers += 1;
        let position = summary.offers;
        let tree = match next {
            Ok(tree) => tree,
            Err(problem) => {
                summary.reject(vec![problem]);
                continue;
            }
        };
        let offer = match interpret(&tree, position) {
            Ok(offer) => offer,
            Err(problems) => {
                summary.reject(problems);
                continue;
            }
        };
        if let Some(first) = seen.insert(offer.lheo_id.clone(), position) {
            summary.reject(vec![OfferProblem {
                offer: Some(offer.lheo_id.clone()),
                position,
                element: "formation/@numero".into(),
                message: format!("identifiant déjà utilisé par l'offre n°{first} du fichier"),
            }]);
            continue;
        }
        match domain::validate(&offer.training) {
            Ok(draft) => batch.push(Pending { offer, draft }),
            Err(errors) => summary.reject(errors_to_problems(errors, &offer.lheo_id, position)),
        }
        if batch.len() >= BATCH {
            write_batch(
                &txn,
                actor,
                std::mem::take(&mut batch),
                &mut providers_by_siret,
                &mut summary,
            )
            .await?;
        }
    }
    write_batch(&txn, actor, batch, &mut providers_by_siret, &mut summary).await?;
    txn.commit().await?;
    Ok(summary)
}

async fn provider_for(
    txn: &sea_orm::DatabaseTransaction,
    draft: &ProviderDraft,
    cache: &mut HashMap<String, provider::Model>,
) -> Result<provider::Model, AppError> {
    if let Some(p) = cache.get(&draft.siret) {
        return Ok(p.clone());
    }
    let p = match providers::by_siret(txn, &draft.siret).await? {
        Some(p) => p,
        None => {
            let now = Utc::now();
            provider::ActiveModel {
                id: Set(Uuid::now_v7()),
                siret: Set(draft.siret.clone()),
                name: Set(draft.name.clone()),
                kind: Set(wire_name(&ProviderKind::Company)),
                email: Set(draft.email.clone()),
                website: Set(draft.website.clone()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await?
        }
    };
    cache.insert(p.siret.clone(), p.clone());
    Ok(p)
}

/// Writes a batch: existing programmes are looked up together, new ones inserted together.
async fn write_batch(
    txn: &sea_orm::DatabaseTransaction,
    actor: &str,
    batch: Vec<Pending>,
    providers: &mut HashMap<String, provider::Model>,
    summary: &mut Summary,
) -> Result<(), AppError> {
    if batch.is_empty() {
        return Ok(());
    }
    let lheo_ids: Vec<String> = batch.iter().map(|p| p.offer.lheo_id.clone()).collect();
    let mut by_lheo: HashMap<String, training::Model> = training::Entity::find()
        .filter(training::Column::LheoId.is_in(lheo_ids))
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|t| t.lheo_id.clone().map(|id| (id, t)))
        .collect();
    // Our own exports use our ids as `numero`: a round trip finds the same programmes.
    let own_ids: Vec<Uuid> = batch
        .iter()
        .filter(|p| !by_lheo.contains_key(&p.offer.lheo_id))
        .filter_map(|p| Uuid::parse_str(&p.offer.lheo_id).ok())
        .collect();
    if !own_ids.is_empty() {
        for t in training::Entity::find()
            .filter(training::Column::Id.is_in(own_ids))
            .all(txn)
            .await?
        {
            by_lheo.insert(t.id.to_string(), t);
        }
    }
    let mut existing: HashMap<Uuid, Full> =
        store::load_many(txn, by_lheo.values().cloned().collect())
            .await?
            .into_iter()
            .map(|f| (f.training.id, f))
            .collect();

    let now = Utc::now();
    let mut new_trainings = Vec::new();
    let mut new_places = Vec::new();
    let mut new_sessions = Vec::new();
    let mut created_ids = Vec::new();
    let mut announcements = Vec::new();
    for Pending { offer, draft } in batch {
        let provider = provider_for(txn, &offer.provider, providers).await?;
        let current = by_lheo
            .get(&offer.lheo_id)
            .and_then(|t| existing.remove(&t.id));
        match current {
            Some(full) => {
                let before = full.draft();
                if before == draft && full.training.provider_id == provider.id {
                    summary.unchanged += 1;
                    continue;
                }
                let changed = store::changed_fields(&before, &draft);
                let published = full.training.status == domain::Status::Published.as_str();
                let mut model = full.training.into_active_model();
                store::apply(&mut model, &draft);
                model.provider_id = Set(provider.id);
                let model = model.update(txn).await?;
                store::replace_children(txn, model.id, &draft).await?;
                audit::record_change(
                    txn,
                    actor,
                    "import",
                    "training",
                    model.id,
                    None,
                    Some(&changed.join(",")),
                )
                .await?;
                if published {
                    let full = store::load(txn, model).await?;
                    store::announce(
                        txn,
                        messages::TRAINING_UPDATED,
                        full.training.id,
                        full.state(&provider),
                    )
                    .await?;
                }
                summary.updated += 1;
            }
            None => {
                let id = Uuid::now_v7();
                let mut model = training::ActiveModel {
                    id: Set(id),
                    lheo_id: Set(Some(offer.lheo_id.clone())),
                    provider_id: Set(provider.id),
                    status: Set(domain::Status::Published.as_str().into()),
                    status_reason: Set(None),
                    submitted_by: Set(actor.to_owned()),
                    created_at: Set(now),
                    published_at: Set(Some(now)),
                    ..Default::default()
                };
                store::apply(&mut model, &draft);
                let (places, sessions) = store::children(id, &draft);
                new_places.extend(places);
                new_sessions.extend(sessions);
                let state = store::state_of_draft(id, &provider, &draft);
                announcements.push((
                    messages::TRAINING_PUBLISHED,
                    cafeia_platform::envelope::Envelope::new(
                        messages::TRAINING_PUBLISHED,
                        format!("training/{id}"),
                        state,
                    ),
                ));
                new_trainings.push(model);
                created_ids.push(id);
                summary.created += 1;
            }
        }
    }
    // 28 columns a row: 1,000 rows stay under SQLite's 32,766 bound parameters.
    for chunk in new_trainings.chunks(1000) {
        training::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    store::insert_children(txn, new_places, new_sessions).await?;
    for chunk in created_ids.chunks(2000) {
        audit::record_many(txn, actor, "import", "training", chunk).await?;
    }
    for chunk in announcements.chunks(2000) {
        cafeia_platform::outbox::enqueue_many(txn, chunk).await?;
    }
    Ok(())
}

fn errors_to_problems(
    errors: Vec<FieldError>,
    lheo_id: &str,
    position: usize,
) -> Vec<OfferProblem> {
    errors
        .into_iter()
        .map(|e| OfferProblem {
            offer: Some(lheo_id.to_owned()),
            position,
            element: element_of(&e.field),
            message: e.message,
        })
        .collect()
}

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

fn element(out: &mut String, indent: usize, name: &str, text: &str) {
    out.push_str(&"  ".repeat(indent));
    out.push_str(&format!("<{name}>{}</{name}>\n", escape(text)));
}

/// The published catalogue as an LHEO document.
pub fn export(rows: &[(Full, provider::Model)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lheo xmlns=\"http://www.lheo.org/2.2\">\n  <offres>\n",
    );
    for (full, provider) in rows {
        let d = full.draft();
        let numero = full
            .training
            .lheo_id
            .clone()
            .unwrap_or_else(|| full.training.id.to_string());
        out.push_str(&format!("    <formation numero=\"{}\">\n", escape(&numero)));
        element(&mut out, 3, "intitule-formation", &d.title);
        element(&mut out, 3, "objectif-formation", &d.objectives);
        if !d.content.is_empty() {
            element(&mut out, 3, "contenu-formation", &d.content);
        }
        element(
            &mut out,
            3,
            "certifiante",
            if d.certification.is_some() { "1" } else { "0" },
        );
        if let Some(mail) = &d.contact_email {
            out.push_str(&format!("      <contact-formation><coordonnees><courriel>{}</courriel></coordonnees></contact-formation>\n", escape(mail)));
        }
        if let Some(code) = &d.certification {
            let (tag, digits) = match code.strip_prefix("RNCP") {
                Some(digits) => ("code-RNCP", digits),
                None => ("code-RS", code.trim_start_matches("RS")),
            };
            out.push_str(&format!(
                "      <certification><{tag}>{digits}</{tag}></certification>\n"
            ));
        }
        let modalites = match d.format.as_str() {
            "online" => "2",
            "hybrid" => "1",
            _ => "0",
        };
        // One action per place (LHEO has one lieu per action); an online programme has one
        // action without place.
        let mut groups: Vec<(Option<&str>, Vec<&SessionInput>)> = d
            .places
            .iter()
            .map(|p| (Some(p.insee.as_str()), Vec::new()))
            .collect();
        if groups.is_empty() {
            groups.push((None, Vec::new()));
        }
        for s in &d.sessions {
            let slot = groups
                .iter()
                .position(|(insee, _)| s.insee.as_deref().is_some_and(|i| Some(i) == *insee))
                .unwrap_or(0);
            groups[slot].1.push(s);
        }
        for (a, (insee, sessions)) in groups.iter().enumerate() {
            out.push_str(&format!(
                "      <action numero=\"{}-{}\">\n",
                escape(&numero),
                a + 1
            ));
            element(&mut out, 4, "modalites-enseignement", modalites);
            if let Some(insee) = insee {
                let commune = Gazetteer::get().commune(insee);
                out.push_str(&format!(
                    "        <lieu-de-formation><coordonnees><adresse><codepostal>{}</codepostal><ville>{}</ville><code-INSEE-commune>{insee}</code-INSEE-commune></adresse></coordonnees></lieu-de-formation>\n",
                    commune.and_then(|c| c.postcodes.first().cloned()).unwrap_or_default(),
                    escape(&commune.map(|c| c.name.clone()).unwrap_or_default()),
                ));
            }
            element(
                &mut out,
                4,
                "nombre-heures-total",
                &d.duration_hours.to_string(),
            );
            element(
                &mut out,
                4,
                "langue-formation",
                d.languages.first().map(String::as_str).unwrap_or("fr"),
            );
            if let Some(cents) = d.price_cents {
                element(
                    &mut out,
                    4,
                    "prix-total-TTC",
                    &format!("{:.2}", cents as f64 / 100.0),
                );
            }
            if let Some(url) = &d.enrolment_url {
                out.push_str(&format!(
                    "        <url-action><urlweb>{}</urlweb></url-action>\n",
                    escape(url)
                ));
            }
            for s in sessions {
                let numero = s
                    .lheo_id
                    .as_deref()
                    .map(|n| format!(" numero=\"{}\"", escape(n)))
                    .unwrap_or_default();
                let etat = match wire_name(&s.enrolment).as_str() {
                    "closed" => "2",
                    "suspended" => "3",
                    _ => "1",
                };
                out.push_str(&format!(
                    "        <session{numero}><periode><debut>{}</debut><fin>{}</fin></periode><etat-recrutement>{etat}</etat-recrutement></session>\n",
                    s.start_date.format("%Y%m%d"),
                    s.end_date.format("%Y%m%d"),
                ));
            }
            out.push_str("      </action>\n");
        }
        out.push_str("      <organisme-formation-responsable>\n");
        out.push_str(&format!(
            "        <SIRET-organisme-formation><SIRET>{}</SIRET></SIRET-organisme-formation>\n",
            provider.siret
        ));
        element(&mut out, 4, "nom-organisme", &provider.name);
        out.push_str("      </organisme-formation-responsable>\n");
        out.push_str("      <extras info=\"cafeia\">\n");
        let mut put = |key: &str, value: String| {
            out.push_str(&format!(
                "        <extra info=\"{key}\">{}</extra>\n",
                escape(&value)
            ));
        };
        put("summary", d.summary.clone());
        put("level", d.level.clone());
        put("format", d.format.clone());
        put("pace", d.pace.clone());
        put("audiences", d.audiences.join("|"));
        put("topics", d.topics.join("|"));
        put("languages", d.languages.join("|"));
        put("free", if d.is_free { "1".into() } else { "0".into() });
        put("online", if d.online { "1".into() } else { "0".into() });
        if !d.accessibility.is_empty() {
            put("accessibility", d.accessibility.join("|"));
        }
        if !d.funding.is_empty() {
            put("funding", d.funding.join("|"));
        }
        out.push_str("      </extras>\n    </formation>\n");
    }
    out.push_str("  </offres>\n</lheo>\n");
    out
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
