//! The answer to an LHEO import (LHEO: Langage Harmonisé d'Échange d'informations sur l'Offre
//! de formation, the national format for training offers).

use serde::{Deserialize, Serialize};

/// One problem with one offer of the file: which element, why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LheoProblem {
    /// `formation/@numero`, when the offer has one.
    pub offer: Option<String>,
    /// 1-based position of the offer in the file.
    pub position: usize,
    /// The LHEO element at fault, e.g. `action/session[2]/periode/fin`.
    pub element: String,
    /// What is wrong, in French.
    pub message: String,
}

/// What an import did. Offers become published programmes; an identical offer changes
/// nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LheoImportSummary {
    /// Offers read (`formation` elements).
    pub offers: usize,
    /// New programmes.
    pub created: usize,
    /// Programmes that changed.
    pub updated: usize,
    /// Programmes already identical.
    pub unchanged: usize,
    /// Offers refused.
    pub rejected: usize,
    /// Why offers were refused; at most 1000 problems are listed, `rejected` counts them all.
    pub problems: Vec<LheoProblem>,
}
