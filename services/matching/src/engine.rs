//! The in-memory search engine over the read model: items by id, an R-tree (rstar) of their
//! places, a tantivy full-text index with a French analyzer (lower case, accents folded,
//! Snowball stemming), and reach per département. Reloaded by sequence number from the
//! database: at most every 250 ms, or at once after this replica's consumer wrote.

use crate::{
    model::Item,
    recommend::Experience,
    storage::{Unreadable, item, reached},
};
use cafeia_platform::{AppError, territory::Gazetteer};
use rstar::{AABB, RTree, primitives::GeomWithData};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Instant,
};
use tantivy::{
    Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term,
    collector::TopDocs,
    query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery},
    schema::{
        Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
    },
    tokenizer::{AsciiFoldingFilter, Language, LowerCaser, SimpleTokenizer, Stemmer, TextAnalyzer},
};
use uuid::Uuid;

/// A place in the R-tree, carrying its item (no lookup after the spatial query).
pub type Point = GeomWithData<[f64; 2], Arc<Item>>;

struct Text {
    writer: Mutex<IndexWriter>,
    reader: IndexReader,
    id: Field,
    title: Field,
    body: Field,
}

/// Offers with the best score each could reach, best first.
pub type Bounded = Vec<(f64, Arc<Item>)>;

/// Online offers sorted by the best score they could reach, best first: per topic (full bound),
/// and all of them with the bound an offer has when it matches none of the interests.
#[derive(Default)]
pub struct OnlineLists {
    pub by_topic: HashMap<String, Bounded>,
    pub without_interest: Bounded,
}

#[derive(Default)]
pub struct State {
    pub items: HashMap<Uuid, Arc<Item>>,
    /// Items that can be followed online (candidates whatever the distance), by the best score
    /// they can reach for each experience, best first (see `recommend::online_bound`).
    /// Index 0: first-timers, 1: returning people.
    pub online: [OnlineLists; 2],
    pub places: RTree<Point>,
    /// People reached per session (latest report), summed per département on demand.
    reached: HashMap<Uuid, (Option<String>, i64)>,
    pub reach_per_10000: HashMap<String, f64>,
    pub national_reach_per_10000: f64,
    marks: [i64; 2],
}

pub struct Engine {
    state: RwLock<State>,
    text: Text,
    changed: AtomicBool,
    refreshed: tokio::sync::Mutex<Option<Instant>>,
    /// Bumped whenever the data changes: part of every cache key.
    pub generation: AtomicU64,
}

const ANALYZER: &str = "fr";

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::French))
        .build()
}

impl Engine {
    pub fn new() -> Result<Self, tantivy::TantivyError> {
        let mut schema = Schema::builder();
        let indexed = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let id = schema.add_text_field("id", STRING | STORED);
        let title = schema.add_text_field("title", indexed.clone());
        let body = schema.add_text_field("body", indexed);
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(ANALYZER, analyzer());
        let writer = index.writer_with_num_threads(1, 30_000_000)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            state: RwLock::new(State::default()),
            text: Text {
                writer: Mutex::new(writer),
                reader,
                id,
                title,
                body,
            },
            changed: AtomicBool::new(true),
            refreshed: tokio::sync::Mutex::new(None),
            generation: AtomicU64::new(0),
        })
    }

    /// This replica's consumer wrote: reload before the next answer.
    pub fn changed(&self) {
        self.changed.store(true, Ordering::Release);
    }

    /// Forgets everything (rebuild); the next refresh reloads all.
    pub fn reset(&self) -> Result<(), tantivy::TantivyError> {
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = State::default();
        let mut writer = self.text.writer.lock().unwrap_or_else(|e| e.into_inner());
        writer.delete_all_documents()?;
        writer.commit()?;
        self.text.reader.reload()?;
        self.changed();
        Ok(())
    }

    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Loads what changed since the last look (if it may have). A row that does not read stops
    /// the load there ([`RefreshError::Unreadable`]) and every look reads it again, so no answer
    /// is given without it, and the engine moves on once the row is mended (rewritten by a later
    /// message).
    pub async fn refresh(&self, db: &DatabaseConnection) -> Result<(), RefreshError> {
        let mut last = self.refreshed.lock().await;
        let stale = last.is_none_or(|t| t.elapsed().as_millis() >= 250);
        if !stale && !self.changed.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        self.changed.store(false, Ordering::Release);
        let mut applied = 0usize;
        let loaded = self.load_changes(db, &mut applied).await;
        // What was applied before a failure is in the state: answers cached before it are stale.
        if applied > 0 {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        if loaded.is_err() {
            self.changed();
        }
        loaded?;
        *last = Some(Instant::now());
        Ok(())
    }

    /// Applies the rows stamped after the marks, counting them in `applied`.
    async fn load_changes(
        &self,
        db: &DatabaseConnection,
        applied: &mut usize,
    ) -> Result<(), RefreshError> {
        let marks = self.read(|s| s.marks);
        let mut after = marks[0];
        loop {
            let rows = item::Entity::find()
                .filter(item::Column::Seq.gt(after))
                .order_by_asc(item::Column::Seq)
                .limit(20_000)
                .all(db)
                .await
                .map_err(|e| RefreshError::reading("item", e))?;
            let Some(last_row) = rows.last() else { break };
            after = last_row.seq;
            *applied += rows.len();
            self.apply(rows)?;
        }
        let reach_rows = reached::Entity::find()
            .filter(reached::Column::Seq.gt(marks[1]))
            .all(db)
            .await
            .map_err(|e| RefreshError::reading("reached", e))?;
        if !reach_rows.is_empty() {
            *applied += reach_rows.len();
            let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
            for r in reach_rows {
                state.marks[1] = state.marks[1].max(r.seq);
                state
                    .reached
                    .insert(r.session_id, (r.departement, i64::from(r.first_timers)));
            }
            recompute_reach(&mut state);
        }
        Ok(())
    }

    fn apply(&self, rows: Vec<item::Model>) -> Result<(), tantivy::TantivyError> {
        let docs: Vec<(i64, Item)> = rows.into_iter().map(|r| (r.seq, r.doc.indexed())).collect();
        {
            let writer = self.text.writer.lock().unwrap_or_else(|e| e.into_inner());
            for (_, doc) in &docs {
                writer.delete_term(Term::from_field_text(self.text.id, &doc.id.to_string()));
                if doc.active {
                    let mut d = TantivyDocument::default();
                    d.add_text(self.text.id, doc.id.to_string());
                    d.add_text(self.text.title, &doc.title);
                    d.add_text(self.text.body, &doc.text);
                    writer.add_document(d)?;
                }
            }
        }
        self.text
            .writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .commit()?;
        self.text.reader.reload()?;
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        for (seq, doc) in docs {
            state.marks[0] = state.marks[0].max(seq);
            if let Some(old) = state.items.remove(&doc.id) {
                for p in &old.places {
                    state
                        .places
                        .remove(&Point::new([p.longitude, p.latitude], old.clone()));
                }
            }
            if doc.active {
                let doc = Arc::new(doc);
                for p in &doc.places {
                    state
                        .places
                        .insert(Point::new([p.longitude, p.latitude], doc.clone()));
                }
                state.items.insert(doc.id, doc);
            }
        }
        for (slot, experience) in [Experience::FirstTime, Experience::Returning]
            .into_iter()
            .enumerate()
        {
            let mut lists = OnlineLists::default();
            for item in state.items.values().filter(|i| i.online()) {
                let bound = crate::recommend::online_bound(item, experience);
                for topic in &item.topics {
                    lists
                        .by_topic
                        .entry(topic.clone())
                        .or_default()
                        .push((bound, item.clone()));
                }
                let unmatched =
                    bound - crate::recommend::Weights::INTEREST * item.topics.len().min(2) as f64;
                lists.without_interest.push((unmatched, item.clone()));
            }
            for list in lists.by_topic.values_mut() {
                list.sort_by(|a, b| b.0.total_cmp(&a.0));
            }
            lists.without_interest.sort_by(|a, b| b.0.total_cmp(&a.0));
            state.online[slot] = lists;
        }
        Ok(())
    }

    /// Items whose text matches `query` (French analysis, "IA" ≈ "intelligence artificielle",
    /// one typo tolerated in words of 5 letters or more), with their scores, best first.
    pub fn text_search(&self, query: &str, limit: usize) -> Vec<(Uuid, f32)> {
        let Some(q) = self.text_query(query) else {
            return Vec::new();
        };
        let searcher = self.text.reader.searcher();
        let Ok(hits) = searcher.search(&q, &TopDocs::with_limit(limit.max(1))) else {
            return Vec::new();
        };
        hits.into_iter()
            .filter_map(|(score, address)| {
                let doc: TantivyDocument = searcher.doc(address).ok()?;
                let id = doc.get_first(self.text.id)?.as_str()?;
                Some((Uuid::parse_str(id).ok()?, score))
            })
            .collect()
    }

    fn tokens(&self, text: &str) -> Vec<String> {
        let mut analyzer = analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        stream.process(&mut |t| out.push(t.text.clone()));
        out
    }

    fn text_query(&self, query: &str) -> Option<Box<dyn Query>> {
        let words = self.tokens(query);
        if words.is_empty() {
            return None;
        }
        let ai_phrase = self.tokens("intelligence artificielle");
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut i = 0;
        while i < words.len() {
            // "intelligence artificielle" in the query also means "IA", and "IA" means it.
            let is_phrase = words[i..].starts_with(&ai_phrase);
            let word = &words[i];
            let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for field in [self.text.title, self.text.body] {
                let boost = if field == self.text.title { 2.0 } else { 1.0 };
                let term = Term::from_field_text(field, word);
                let exact: Box<dyn Query> =
                    Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs));
                alternatives.push((Occur::Should, Box::new(BoostQuery::new(exact, boost))));
                if word.chars().count() >= 5 {
                    alternatives
                        .push((Occur::Should, Box::new(FuzzyTermQuery::new(term, 1, true))));
                }
                if word == "ia" || is_phrase {
                    let phrase = PhraseQuery::new(
                        ai_phrase
                            .iter()
                            .map(|w| Term::from_field_text(field, w))
                            .collect(),
                    );
                    alternatives.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(phrase), boost)),
                    ));
                    let ia = Term::from_field_text(field, "ia");
                    alternatives.push((
                        Occur::Should,
                        Box::new(TermQuery::new(ia, IndexRecordOption::WithFreqs)),
                    ));
                }
            }
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(alternatives))));
            i += if is_phrase { ai_phrase.len() } else { 1 };
        }
        Some(Box::new(BooleanQuery::new(clauses)))
    }
}

/// Why the engine could not reload.
#[derive(Debug)]
pub enum RefreshError {
    /// A stored row does not read as its type (table and column or enum named).
    Unreadable(Unreadable),
    /// The database failed.
    Database(DbErr),
    /// The full-text index failed.
    Index(tantivy::TantivyError),
}

impl RefreshError {
    fn reading(table: &'static str, e: DbErr) -> Self {
        Unreadable::classify(table, e).map_or_else(Self::Database, Self::Unreadable)
    }
}

impl std::fmt::Display for RefreshError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreadable(e) => write!(f, "read model not loaded: {e}"),
            Self::Database(e) => write!(f, "read model not loaded: {e}"),
            Self::Index(e) => write!(f, "full-text index not updated: {e}"),
        }
    }
}

impl std::error::Error for RefreshError {}

impl From<tantivy::TantivyError> for RefreshError {
    fn from(e: tantivy::TantivyError) -> Self {
        Self::Index(e)
    }
}

/// An answer cannot be given over a read model that did not load: 500 (the cause logged), or
/// 503 when the database is away.
impl From<RefreshError> for AppError {
    fn from(e: RefreshError) -> Self {
        match e {
            RefreshError::Database(e) => e.into(),
            other => AppError::internal(other),
        }
    }
}

/// Items with a place within `radius_km` of (`lat`, `lon`), with the distance of their nearest
/// place: the R-tree narrows to a box, the great-circle distance decides.
pub fn near_items(state: &State, lat: f64, lon: f64, radius_km: f64) -> Vec<(&Arc<Item>, f64)> {
    let dlat = radius_km / 110.574;
    let dlon = radius_km / (111.320 * lat.to_radians().cos().abs().max(0.01));
    let envelope = AABB::from_corners([lon - dlon, lat - dlat], [lon + dlon, lat + dlat]);
    let mut out: Vec<(&Arc<Item>, f64)> = Vec::new();
    // Items with several places (trainings) appear once, at their nearest place.
    let mut several: HashMap<Uuid, usize> = HashMap::new();
    for p in state.places.locate_in_envelope(&envelope) {
        let [plon, plat] = *p.geom();
        let d = cafeia_platform::territory::distance_km((lat, lon), (plat, plon));
        if d > radius_km {
            continue;
        }
        if p.data.places.len() > 1 {
            if let Some(&i) = several.get(&p.data.id) {
                out[i].1 = out[i].1.min(d);
                continue;
            }
            several.insert(p.data.id, out.len());
        }
        out.push((&p.data, d));
    }
    out
}

/// [`near_items`] by id.
pub fn near(state: &State, lat: f64, lon: f64, radius_km: f64) -> HashMap<Uuid, f64> {
    near_items(state, lat, lon, radius_km)
        .into_iter()
        .map(|(item, d)| (item.id, d))
        .collect()
}

fn recompute_reach(state: &mut State) {
    let g = Gazetteer::get();
    let mut per_dep: HashMap<&str, i64> = HashMap::new();
    let mut total = 0i64;
    for (dep, n) in state.reached.values() {
        total += n;
        if let Some(d) = dep {
            *per_dep.entry(d.as_str()).or_default() += n;
        }
    }
    let population: u64 = g.departements().map(|d| d.population).sum();
    let reach: HashMap<String, f64> = g
        .departements()
        .map(|d| {
            let n = per_dep.get(d.code.as_str()).copied().unwrap_or(0);
            (
                d.code.clone(),
                n as f64 * 10_000.0 / d.population.max(1) as f64,
            )
        })
        .collect();
    state.national_reach_per_10000 = total as f64 * 10_000.0 / population.max(1) as f64;
    state.reach_per_10000 = reach;
}
