//! The commune picker the forms share: what a person typed (a name or a postcode) becomes
//! one commune through the API's `communes` query, or the homonyms to choose from as radios,
//! so it works with scripts off (scripts only suggest names while typing).

use crate::{
    Web,
    graph::GraphError,
    operations::{CommuneNamed, CommuneSuggestions, commune_named, commune_suggestions},
    pages::run,
    session::Visitor,
};
use actix_web::HttpRequest;
use cafeia_platform::territory::fold;

/// A commune as the forms show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Commune {
    pub insee: String,
    pub name: String,
    pub departement: String,
    pub departement_name: String,
    pub postcodes: Vec<String>,
}

impl Commune {
    /// "Lyon — Rhône (69)": homonyms told apart by their département.
    pub fn label(&self) -> String {
        format!(
            "{} — {} ({})",
            self.name, self.departement_name, self.departement
        )
    }

    /// "Rhône (69), tout le département"
    pub fn departement_label(&self) -> String {
        departement_label(&self.departement_name, &self.departement)
    }
}

pub fn departement_label(name: &str, code: &str) -> String {
    format!("{name} ({code}), tout le département")
}

/// What the typed text names.
#[derive(Debug, Clone, PartialEq)]
pub enum Picked {
    One(Commune),
    /// Several communes answer to it: the person chooses.
    Several(Vec<Commune>),
    Unknown,
}

/// Resolves what the person typed, or the homonym they chose among those offered (`chosen`,
/// an INSEE code) as long as the text still names it.
pub async fn resolve(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    typed: &str,
    chosen: &str,
) -> Result<Picked, Vec<GraphError>> {
    if !chosen.trim().is_empty()
        && let Some(c) = commune(app, req, visitor, chosen).await?
        && (typed.trim().is_empty() || fold(&c.name) == fold(typed))
    {
        return Ok(Picked::One(c));
    }
    pick(app, req, visitor, typed).await
}

/// The commune of INSEE code `insee`, if there is one.
pub async fn commune(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    insee: &str,
) -> Result<Option<Commune>, Vec<GraphError>> {
    let data = run::<CommuneNamed>(
        app,
        req,
        visitor,
        commune_named::Variables {
            insee: insee.trim().to_owned(),
        },
    )
    .await?;
    Ok(data.commune.map(|c| Commune {
        insee: c.insee,
        name: c.name,
        departement: c.departement,
        departement_name: c.departement_name,
        postcodes: c.postcodes,
    }))
}

/// Resolves `typed`: the one commune of that exact name (or the only suggestion), else the
/// suggestions to choose from.
pub async fn pick(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    typed: &str,
) -> Result<Picked, Vec<GraphError>> {
    let typed = typed.trim();
    let found = suggestions(app, req, visitor, typed).await?;
    let wanted = fold(typed);
    let exact: Vec<&Commune> = found.iter().filter(|c| fold(&c.name) == wanted).collect();
    Ok(match (exact.as_slice(), found.as_slice()) {
        ([only], _) => Picked::One((*only).clone()),
        ([], [only]) => Picked::One(only.clone()),
        (_, []) => Picked::Unknown,
        _ => Picked::Several(found),
    })
}

/// The communes whose name or postcode starts with `typed`, the most populous first.
pub async fn suggestions(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    typed: &str,
) -> Result<Vec<Commune>, Vec<GraphError>> {
    let data = run::<CommuneSuggestions>(
        app,
        req,
        visitor,
        commune_suggestions::Variables {
            search: typed.to_owned(),
            first: Some(8),
        },
    )
    .await?;
    Ok(data
        .communes
        .into_iter()
        .map(|c| Commune {
            insee: c.insee,
            name: c.name,
            departement: c.departement,
            departement_name: c.departement_name,
            postcodes: c.postcodes,
        })
        .collect())
}

/// Whether `text` is written like a département's code (`69`, `2A`, `974`).
pub fn looks_like_departement(text: &str) -> bool {
    let t = text.trim().to_uppercase();
    match t.len() {
        2 => t.bytes().all(|b| b.is_ascii_digit()) || t == "2A" || t == "2B",
        3 => t.starts_with("97") && t.bytes().all(|b| b.is_ascii_digit()),
        _ => false,
    }
}

/// The label of département `code`: the API names départements through their communes, and
/// a commune's postcode starts with its département's code nearly everywhere (Corsica's
/// `20…` aside, where the code alone is shown).
pub async fn departement_named(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    code: &str,
) -> String {
    let code = code.trim().to_uppercase();
    suggestions(app, req, visitor, &code)
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.departement == code)
        .map(|c| c.departement_label())
        .unwrap_or_else(|| format!("Département {code}"))
}

#[cfg(test)]
mod tests {
    use super::looks_like_departement;

    #[test]
    fn departement_codes_are_told_from_names_and_postcodes() {
        assert!(looks_like_departement("69"));
        assert!(looks_like_departement("2a"));
        assert!(looks_like_departement("974"));
        assert!(!looks_like_departement("69001"));
        assert!(!looks_like_departement("Lyon"));
        assert!(!looks_like_departement("981"));
    }
}
