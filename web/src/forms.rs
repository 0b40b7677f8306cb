//! Form errors: what the API said about each field, shown next to that field, and what stays
//! general (a full session, the service being down).

use crate::graph::GraphError;
use actix_web::http::StatusCode;
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
pub struct FormErrors {
    fields: BTreeMap<String, String>,
    /// Errors about no one field, shown above the form.
    pub general: Vec<String>,
    /// Set when the API did not judge the input at all (too many requests, a service
    /// down): the page says so with the status that goes with it, not "invalid input".
    unjudged: Option<StatusCode>,
}

/// The status of a page showing the API's `errors` again: 429 when the person was asked to
/// slow down, 503 when a service was down, else 422 (the input was refused).
pub fn status_of(errors: &[GraphError]) -> StatusCode {
    errors
        .iter()
        .find_map(unjudged)
        .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
}

fn unjudged(e: &GraphError) -> Option<StatusCode> {
    match e.code.as_str() {
        "RATE_LIMITED" => Some(StatusCode::TOO_MANY_REQUESTS),
        "UNAVAILABLE" | "INTERNAL" => Some(StatusCode::SERVICE_UNAVAILABLE),
        _ => None,
    }
}

impl FormErrors {
    /// Sorts the API's errors: an error naming a field (`extensions.field`, `input.email` or
    /// `email`) goes to that field, the rest is general.
    pub fn from_api(errors: &[GraphError]) -> Self {
        let mut out = Self::default();
        for e in errors {
            match &e.field {
                Some(field) => {
                    let name = field.rsplit('.').next().unwrap_or(field).to_owned();
                    out.fields.entry(name).or_insert_with(|| e.message.clone());
                }
                None => out.general.push(general_message(e)),
            }
        }
        out.unjudged = errors.iter().find_map(unjudged);
        out
    }

    /// The page's status: 200 without errors, else as [`status_of`] says.
    pub fn status(&self) -> StatusCode {
        match self.unjudged {
            _ if self.is_empty() => StatusCode::OK,
            Some(status) => status,
            None => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.fields
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    pub fn field(&self, name: &str) -> Option<String> {
        self.fields.get(name).cloned()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }

    /// Whether the API's error named no field the form shows (then it is said above it).
    pub fn keep_only(&mut self, shown: &[&str]) {
        let hidden: Vec<String> = self
            .fields
            .keys()
            .filter(|k| !shown.contains(&k.as_str()))
            .cloned()
            .collect();
        for key in hidden {
            if let Some(message) = self.fields.remove(&key) {
                self.general.push(message);
            }
        }
    }
}

/// What a person reads for an error that is about no field.
pub fn general_message(e: &GraphError) -> String {
    match e.code.as_str() {
        "UNAVAILABLE" | "INTERNAL" => {
            "Le service ne répond pas pour le moment. Réessayez dans quelques minutes : \
             ce que vous avez saisi est conservé."
                .into()
        }
        "RATE_LIMITED" => {
            "Trop de demandes en peu de temps. Patientez une minute puis réessayez.".into()
        }
        "UNAUTHENTICATED" => "Votre connexion a expiré : reconnectez-vous.".into(),
        "FORBIDDEN" => "Vous n'avez pas le droit de faire cette action.".into(),
        _ => e.message.clone(),
    }
}

impl FormErrors {
    /// The API's errors moved onto the form's own fields: `names` pairs the API's input
    /// name (`siret`, `territories` for `territories[2]`) with the form field showing it;
    /// errors about any other field, or none, are said above the form.
    pub fn from_api_renamed(errors: &[GraphError], names: &[(&str, &str)]) -> Self {
        let mut out = Self::default();
        for e in errors {
            let shown = e.field.as_deref().and_then(|field| {
                let last = field.rsplit('.').next().unwrap_or(field);
                let name = last.split('[').next().unwrap_or(last);
                names.iter().find(|(api, _)| *api == name).map(|(_, f)| *f)
            });
            match shown {
                Some(field) => out.add(field, sentence(&e.message)),
                None => out.general.push(sentence(&general_message(e))),
            }
        }
        out.unjudged = errors.iter().find_map(unjudged);
        out
    }

    /// Adds every error of `other` to these.
    pub fn merge(&mut self, other: FormErrors) {
        for (field, message) in other.fields {
            self.add(&field, message);
        }
        self.general.extend(other.general);
        self.unjudged = self.unjudged.or(other.unjudged);
    }
}

/// A service's message ("ne doit pas être vide") as a sentence a person reads.
fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A submitted form as its name/value pairs in order: checkboxes and repeated fields give one
/// name several values, which a struct read by `web::Form` cannot hold.
pub struct Submitted(Vec<(String, String)>);

impl Submitted {
    /// An unreadable body reads as an empty form (its CSRF check then fails).
    pub fn parse(body: &[u8]) -> Self {
        Self(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }

    /// The first value sent under `name`, or empty.
    pub fn one(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Every value sent under `name`, empty ones left out.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// One option of a select, a radio or a checkbox group (the `select` and `choices` macros).
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    /// `options` as (value, label), those among `chosen` selected.
    pub fn list<V: Into<String>, L: Into<String>>(
        options: impl IntoIterator<Item = (V, L)>,
        chosen: &[String],
    ) -> Vec<Choice> {
        options
            .into_iter()
            .map(|(value, label)| {
                let value = value.into();
                Choice {
                    selected: chosen.contains(&value),
                    label: label.into(),
                    value,
                }
            })
            .collect()
    }
}

/// How many acted-on form keys a session remembers (the cookie must stay small).
const SENT_KEPT: usize = 5;

/// Whether the form rendered with key `key` (its hidden `cle`, from `csrf::random_token`)
/// was acted on already in this session, under `bucket`: sent twice (back and resend, a
/// second click after the first answer), one rendering acts once.
pub fn sent_before(session: &actix_session::Session, bucket: &str, key: &str) -> bool {
    one_time_key(key) && sent_keys(session, bucket).iter().any(|k| k == key)
}

/// Remembers that the form rendered with key `key` was acted on.
pub fn mark_sent(session: &actix_session::Session, bucket: &str, key: &str) {
    if !one_time_key(key) {
        return;
    }
    let mut keys = sent_keys(session, bucket);
    keys.retain(|k| k != key);
    keys.push(key.to_owned());
    if keys.len() > SENT_KEPT {
        keys.remove(0);
    }
    // A cookie that cannot be written only loses the protection against a second send.
    let _ = session.insert(bucket, keys);
}

fn sent_keys(session: &actix_session::Session, bucket: &str) -> Vec<String> {
    session.get(bucket).ok().flatten().unwrap_or_default()
}

fn one_time_key(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: &str, field: Option<&str>) -> GraphError {
        GraphError {
            code: code.into(),
            field: field.map(str::to_owned),
            message: "refusé".into(),
        }
    }

    #[test]
    fn a_page_says_why_the_input_was_not_taken() {
        let refused = [error("BAD_USER_INPUT", Some("input.email"))];
        assert_eq!(status_of(&refused), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            FormErrors::from_api(&refused).status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let slow_down = [error("RATE_LIMITED", None)];
        assert_eq!(status_of(&slow_down), StatusCode::TOO_MANY_REQUESTS);
        let mut errors = FormErrors::default();
        errors.add("nom", "Indiquez un nom.");
        errors.merge(FormErrors::from_api_renamed(&slow_down, &[]));
        assert_eq!(errors.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            FormErrors::from_api(&[GraphError::unavailable("down")]).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(FormErrors::default().status(), StatusCode::OK);
    }
}
