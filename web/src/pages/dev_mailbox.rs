//! `/dev/courriels`: the development mailbox (see [`crate::mailbox`]). Not found unless the
//! app was given one, so a deployment answers these addresses like any unknown one.

use super::not_found_page;
use crate::{
    Web, format,
    mailbox::{DevMailbox, MailId, Opened, Piece, Summary},
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpResponse, web};
use askama::Template;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/dev/courriels", web::get().to(list))
        .route("/dev/courriels/{id}", web::get().to(show));
}

/// A mail's line in the list.
pub struct Row {
    pub href: String,
    pub to: String,
    pub subject: String,
    pub date: String,
    pub datetime: String,
}

impl From<&Summary> for Row {
    fn from(mail: &Summary) -> Self {
        Self {
            href: format!("/dev/courriels/{}", mail.id),
            to: mail.to.clone(),
            subject: if mail.subject.is_empty() {
                "(sans objet)".into()
            } else {
                mail.subject.clone()
            },
            date: format::when(mail.date, "Europe/Paris"),
            datetime: mail.date.to_rfc3339(),
        }
    }
}

#[derive(Template)]
#[template(path = "dev_mailbox.html")]
pub struct MailboxPage {
    pub layout: Layout,
    pub dir: String,
    pub rows: Vec<Row>,
    pub limit: usize,
}

#[derive(Template)]
#[template(path = "dev_mail.html")]
pub struct MailPage {
    pub layout: Layout,
    pub mail: Row,
    pub lines: Vec<Vec<Piece>>,
    pub attachments: Vec<String>,
}

fn mailbox(app: &Web) -> Option<&DevMailbox> {
    app.dev_mailbox.as_deref()
}

async fn list(app: web::Data<Web>, visitor: Visitor) -> HttpResponse {
    let Some(mailbox) = mailbox(&app) else {
        return not_found_page(&visitor);
    };
    let rows: Vec<Row> = mailbox.list().iter().map(Row::from).collect();
    render::ok(&MailboxPage {
        layout: Layout::new(
            &visitor,
            "Courriels envoyés (développement)",
            Section::Other,
        ),
        dir: mailbox.dir().display().to_string(),
        rows,
        limit: crate::mailbox::LISTED,
    })
}

async fn show(app: web::Data<Web>, visitor: Visitor, id: web::Path<String>) -> HttpResponse {
    let Some(mailbox) = mailbox(&app) else {
        return not_found_page(&visitor);
    };
    let opened: Option<Opened> = id.parse::<MailId>().ok().and_then(|id| mailbox.open(&id));
    let Some(opened) = opened else {
        return not_found_page(&visitor);
    };
    let mail = Row::from(&opened.summary);
    render::ok(&MailPage {
        layout: Layout::new(&visitor, mail.subject.clone(), Section::Other),
        mail,
        lines: opened.lines,
        attachments: opened.attachments,
    })
}
