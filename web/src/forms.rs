//! Form errors: what the API said about each field, shown next to that field, and what stays
//! general (a full session, the service being down).

use crate::graph::GraphError;
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
pub struct FormErrors {
    fields: BTreeMap<String, String>,
    /// Errors about no one field, shown above the form.
    pub general: Vec<String>,
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
        out
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
