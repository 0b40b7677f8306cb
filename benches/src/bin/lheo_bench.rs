//! LHEO import benchmark: generates an LHEO file of N programmes (default 50,000), imports it
//! into a fresh database, and reports programmes per second and peak memory.
//!
//! ```sh
//! cargo run --release -p cafeia-bench --bin lheo-bench -- --offers 50000
//! cargo run --release -p cafeia-bench --bin lheo-bench -- --database postgres://postgres@127.0.0.1/lheo_bench
//! ```
//! With no `--database`, a SQLite file in a temporary directory is used. A PostgreSQL database
//! must exist and be empty. `--parse-only` measures reading and validating without writing.

use cafeia_bench::{Report, Target, machine::peak_rss_mib};
use cafeia_catalogue::{lheo, storage::Migrator};
use cafeia_platform::{db, territory::Gazetteer};
use sea_orm_migration::MigratorTrait;
use secrecy::SecretString;
use std::{
    io::Write,
    sync::{Arc, atomic::AtomicU64},
    time::Instant,
};

/// The LHEO import benchmark.
#[derive(clap::Parser)]
struct Args {
    /// Programmes in the generated file.
    #[arg(long, default_value_t = 50_000)]
    offers: usize,
    /// Database to import into (default: a SQLite file in a temporary directory; a
    /// PostgreSQL database must exist and be empty).
    #[arg(long)]
    database: Option<String>,
    /// Only read and validate, write nothing.
    #[arg(long)]
    parse_only: bool,
}

fn siret(n: usize) -> String {
    cafeia_platform::validation::complete_siret(&format!(
        "{:013}",
        1_000_000_000_000u64 + n as u64 * 7919
    ))
}

/// Writes `offers` programmes spread over 500 providers and communes all over France.
fn generate(path: &std::path::Path, offers: usize) -> std::io::Result<u64> {
    let communes: Vec<&str> = Gazetteer::get()
        .communes()
        .iter()
        .filter(|c| c.population > 2000)
        .map(|c| c.insee.as_str())
        .collect();
    let topics = [
        "what_is_ai",
        "generative_ai",
        "ai_at_work",
        "ai_and_jobs",
        "data_and_privacy",
        "misinformation_deepfakes",
    ];
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8"?><lheo xmlns="http://www.lheo.org/2.2"><offres>"#
    )?;
    for i in 0..offers {
        let insee = communes[(i * 7) % communes.len()];
        let topic = topics[i % topics.len()];
        write!(
            out,
            r#"<formation numero="BENCH-{i}"><intitule-formation>Formation à l'IA n°{i}</intitule-formation><objectif-formation>Comprendre l'intelligence artificielle et ses usages : séquence {i}.</objectif-formation><contenu-formation>Introduction, démonstrations, ateliers pratiques, débat.</contenu-formation><action numero="BENCH-{i}-A"><modalites-enseignement>{}</modalites-enseignement><lieu-de-formation><coordonnees><adresse><code-INSEE-commune>{insee}</code-INSEE-commune></adresse></coordonnees></lieu-de-formation><nombre-heures-total>{}</nombre-heures-total><langue-formation>fr</langue-formation><url-action><urlweb>https://formations.exemple.fr/{i}</urlweb></url-action><session numero="BENCH-{i}-S1"><periode><debut>20270105</debut><fin>20270110</fin></periode><etat-recrutement>1</etat-recrutement></session><session numero="BENCH-{i}-S2"><periode><debut>20270301</debut><fin>20270306</fin></periode><etat-recrutement>1</etat-recrutement></session></action><organisme-formation-responsable><SIRET-organisme-formation><SIRET>{}</SIRET></SIRET-organisme-formation><nom-organisme>Organisme {}</nom-organisme></organisme-formation-responsable><extras info="cafeia"><extra info="level">beginner</extra><extra info="topics">{topic}</extra><extra info="audiences">general_public|job_seekers</extra></extras></formation>"#,
            i % 2,
            3 + i % 30,
            siret(i % 500),
            i % 500
        )?;
        out.write_all(b"\n")?;
    }
    writeln!(out, "</offres></lheo>")?;
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = <Args as clap::Parser>::parse();
    let offers = args.offers;
    let dir = std::env::temp_dir().join(format!("lheo-bench-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("offres.xml");
    let started = Instant::now();
    let bytes = generate(&file, offers)?;
    eprintln!(
        "generated {offers} offers, {:.1} MB, in {:.1} s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    if args.parse_only {
        let started = Instant::now();
        let source =
            tokio::io::BufReader::with_capacity(64 * 1024, tokio::fs::File::open(&file).await?);
        let mut reader = lheo::OfferReader::new(source, Arc::new(AtomicU64::new(0)));
        let mut valid = 0usize;
        let mut position = 0usize;
        while let Some(next) = reader.next().await? {
            position += 1;
            if let Ok(tree) = next
                && let Ok(offer) = lheo::interpret(&tree, position)
                && cafeia_catalogue::domain::validate(&offer.training).is_ok()
            {
                valid += 1;
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "parse + validate only: {valid} offers in {elapsed:.2} s = {:.0} programmes/s",
            valid as f64 / elapsed
        );
        let mut report = Report::new("lheo-bench");
        report.add(
            "parse + validate only",
            valid as f64 / elapsed,
            "programmes/s",
            None,
        );
        report.finish()?;
        let _ = std::fs::remove_dir_all(&dir);
        return Ok(());
    }
    let url = args.database.unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.join("catalogue.sqlite").display()
        )
    });
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let conn = db::connect(&SecretString::from(url), 4).await?;
    Migrator::up(&conn, None).await?;
    let rss_before = peak_rss_mib();

    let started = Instant::now();
    let source =
        tokio::io::BufReader::with_capacity(64 * 1024, tokio::fs::File::open(&file).await?);
    let summary = lheo::import(&conn, "bench", source, Arc::new(AtomicU64::new(0))).await?;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{backend}: {} offers ({} created, {} rejected) in {elapsed:.2} s = {:.0} programmes/s; peak RSS {:.0} MiB (before import {:.0} MiB)",
        summary.offers,
        summary.created,
        summary.rejected,
        summary.offers as f64 / elapsed,
        peak_rss_mib(),
        rss_before,
    );
    // The targets are PostgreSQL's (bulk inserts); SQLite's figures are there to compare.
    let mut report = Report::new("lheo-bench");
    let on_postgres = backend == "PostgreSQL";
    report.add(
        format!("import {offers} programmes, {backend}"),
        summary.offers as f64 / elapsed,
        "programmes/s",
        on_postgres.then_some(Target::AtLeast(20_000.0)),
    );
    report.add(
        format!("import {offers} programmes, {backend}, peak RSS"),
        peak_rss_mib(),
        "MiB",
        Some(Target::Below(100.0)),
    );
    report.finish()?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
