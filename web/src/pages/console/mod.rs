//! The staff console (`/pilotage`): CNNum staff and regional coordinators follow the outreach
//! toward 2,000,000 people, verify facilitators, review the catalogue, import, export and
//! watch the sessions of their territory. Every page is scoped to the signed-in person's
//! territory and says so; the API checks every call again with the same scope.

pub mod catalogue;
pub mod dashboard;
pub mod exports;
pub mod facilitators;
pub mod imports;
pub mod sessions;

use super::{api_problem, problem, run};
use crate::{
    Web,
    operations::{MyScope, my_scope},
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use cafeia_platform::territory::Gazetteer;

pub fn configure(cfg: &mut web::ServiceConfig) {
    dashboard::configure(cfg);
    facilitators::configure(cfg);
    catalogue::configure(cfg);
    imports::configure(cfg);
    exports::configure(cfg);
    sessions::configure(cfg);
}

/// What a staff member covers: the whole country, or a coordinator's région or département.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    National,
    Region(String),
    Departement(String),
}

impl Scope {
    /// The API's `Me.territory`: `national`, `region:84`, `departement:69`.
    pub fn parse(territory: &str) -> Option<Self> {
        match territory.split_once(':') {
            None if territory == "national" => Some(Self::National),
            Some(("region", code)) if !code.is_empty() => Some(Self::Region(code.into())),
            Some(("departement", code)) if !code.is_empty() => Some(Self::Departement(code.into())),
            _ => None,
        }
    }

    /// What the pages say the figures and rows cover: « toute la France »,
    /// « la région Auvergne-Rhône-Alpes », « le département du Rhône (69) ».
    pub fn label(&self) -> String {
        let places = Gazetteer::get();
        match self {
            Self::National => "toute la France".into(),
            Self::Region(code) => match places.region(code) {
                Some(r) => format!("la région {}", r.name),
                None => format!("la région {code}"),
            },
            Self::Departement(code) => match places.departement(code) {
                Some(d) => format!("le département {} ({code})", d.name),
                None => format!("le département {code}"),
            },
        }
    }

    pub fn is_national(&self) -> bool {
        matches!(self, Self::National)
    }

    /// The région a coordinator covers (`None` nationally or for a département).
    pub fn region(&self) -> Option<&str> {
        match self {
            Self::Region(code) => Some(code),
            _ => None,
        }
    }

    /// The département a coordinator covers (`None` nationally or for a région).
    pub fn departement(&self) -> Option<&str> {
        match self {
            Self::Departement(code) => Some(code),
            _ => None,
        }
    }

    /// The départements this scope covers, by INSEE code, in code order (all of France
    /// nationally, overseas included).
    pub fn departements(&self) -> Vec<String> {
        let places = Gazetteer::get();
        let mut codes: Vec<String> = places
            .departements()
            .filter(|d| match self {
                Self::National => true,
                Self::Region(code) => d.region == *code,
                Self::Departement(code) => d.code == *code,
            })
            .map(|d| d.code.clone())
            .collect();
        codes.sort();
        codes
    }

    /// Whether a département (INSEE code) is inside this scope.
    pub fn covers(&self, departement: &str) -> bool {
        match self {
            Self::National => true,
            Self::Region(code) => Gazetteer::get()
                .departement(departement)
                .is_some_and(|d| d.region == *code),
            Self::Departement(code) => code == departement,
        }
    }
}

/// The console's pages, for its side menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsolePage {
    Dashboard,
    Facilitators,
    Catalogue,
    Imports,
    Exports,
    Sessions,
}

/// What every console page shows around its content: the side menu and the territory.
pub struct Frame {
    pub scope: Scope,
    pub page: ConsolePage,
}

impl Frame {
    pub fn scope_label(&self) -> String {
        self.scope.label()
    }

    /// `aria-current="page"` for the current menu entry.
    pub fn current(&self, page: ConsolePage) -> &'static str {
        if page == self.page { "page" } else { "false" }
    }
}

/// The signed-in staff member's scope, or the answer for whoever may not see the console:
/// sign in first, or a page saying whom it is for.
pub async fn staff(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    back: &str,
) -> Result<Scope, HttpResponse> {
    if visitor.signed_in.is_none() {
        return Err(render::see_other(&super::link(
            "/connexion",
            &[("retour", back)],
        )));
    }
    if !visitor.is("staff") {
        return Err(refused(visitor));
    }
    let me = run::<MyScope>(app, req, visitor, my_scope::Variables {})
        .await
        .map_err(|e| api_problem(visitor, &e))?;
    me.me
        .and_then(|me| me.territory)
        .and_then(|t| Scope::parse(&t))
        .ok_or_else(|| refused(visitor))
}

fn refused(visitor: &Visitor) -> HttpResponse {
    problem(
        visitor,
        StatusCode::FORBIDDEN,
        "Espace réservé à l'équipe de pilotage",
        "Cet espace sert au Conseil national du numérique et aux coordinations régionales \
         des Cafés IA. Votre compte n'y a pas accès : pour trouver un café et vous y inscrire, \
         revenez à l'accueil.",
    )
}

/// The départements of a scope, by name, for a form's list (`chosen` selected).
pub fn departement_choices(scope: &Scope, chosen: &str) -> Vec<crate::forms::Choice> {
    let places = cafeia_platform::territory::Gazetteer::get();
    crate::forms::Choice::list(
        scope.departements().into_iter().map(|code| {
            let name = places
                .departement(&code)
                .map(|d| format!("{code} — {}", d.name))
                .unwrap_or_else(|| code.clone());
            (code, name)
        }),
        &[chosen.to_owned()],
    )
}

/// The same as a filter: none where there is only one département to see.
pub fn departement_filter(scope: &Scope, chosen: &str) -> Vec<crate::forms::Choice> {
    if scope.departements().len() < 2 {
        return Vec::new();
    }
    departement_choices(scope, chosen)
}

/// The layout of a console page titled `title`.
pub fn layout(visitor: &Visitor, title: &str) -> Layout {
    Layout::new(visitor, title, Section::Console)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn territories_read_as_the_api_writes_them() {
        assert_eq!(Scope::parse("national"), Some(Scope::National));
        assert_eq!(Scope::parse("region:84"), Some(Scope::Region("84".into())));
        assert_eq!(
            Scope::parse("departement:2A"),
            Some(Scope::Departement("2A".into()))
        );
        assert_eq!(Scope::parse("region:"), None);
        assert_eq!(Scope::parse("commune:69123"), None);
    }

    #[test]
    fn a_region_covers_its_departements_only() {
        let ara = Scope::Region("84".into());
        assert_eq!(ara.label(), "la région Auvergne-Rhône-Alpes");
        assert!(ara.covers("69") && ara.covers("63"));
        assert!(!ara.covers("75") && !ara.covers("971"));
        let codes = ara.departements();
        assert_eq!(codes.len(), 12, "{codes:?}");
        assert!(Scope::National.departements().contains(&"974".to_string()));
        assert_eq!(
            Scope::Departement("69".into()).label(),
            "le département Rhône (69)"
        );
    }
}
