//! Gateway configuration: the platform's, plus GraphQL limits and where the services are.

use cafeia_matching_api::client_address::ClientAddressConfig;
use cafeia_platform::config::{self, ConfigError, PlatformConfig, Sources, Validate, Violations};
use serde::Deserialize;

#[derive(Debug, Clone, Default)]
pub struct GatewayConfig {
    pub platform: PlatformConfig,
    pub graphql: GraphqlConfig,
    pub services: ServiceUrls,
    pub rate_limit: RateLimitConfig,
    /// The key the client address forwarded to matching is sealed with (section
    /// `client_address`, shared with matching).
    pub client_address: ClientAddressConfig,
    /// The web app the gateway serves beside the API (section `web`).
    pub web: cafeia_web::WebConfig,
}

impl GatewayConfig {
    /// Loads the platform keys and the gateway's own from the same layers. Two passes rather
    /// than `#[serde(flatten)]`, which would lose the path of a bad key in error messages.
    pub fn load(sources: &Sources) -> Result<Self, ConfigError> {
        let platform = PlatformConfig::load(sources)?;
        let own: GatewaySettings = config::load(sources)?;
        Ok(Self {
            platform,
            graphql: own.graphql,
            services: own.services,
            rate_limit: own.rate_limit,
            client_address: own.client_address,
            web: config::load_section(sources, "web")?,
        })
    }
}

/// The keys only the gateway reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct GatewaySettings {
    graphql: GraphqlConfig,
    services: ServiceUrls,
    rate_limit: RateLimitConfig,
    client_address: ClientAddressConfig,
}

impl Validate for GatewaySettings {
    fn validate(&self, v: &mut Violations) {
        self.graphql.validate(v);
        self.services.validate(v);
        self.rate_limit.validate(v);
        if let Some(why) = self.client_address.problem() {
            v.add("client_address.key", why);
        }
        v.check(
            self.rate_limit.requests_per_minute >= 1,
            "rate_limit.requests_per_minute",
            "must be at least 1",
        );
        v.check(
            self.rate_limit.cost_per_minute >= self.graphql.complexity_limit as u64,
            "rate_limit.cost_per_minute",
            "must be at least graphql.complexity_limit (or no operation could ever run)",
        );
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct GraphqlConfig {
    /// Deepest selection nesting accepted (introspection apart: see `limits`).
    pub depth_limit: usize,
    /// Highest cost of one operation (`cost`: a plain field costs 1, searches, mutations,
    /// imports and pages more; aliases count as the fields they repeat).
    pub complexity_limit: usize,
    /// Most mutation fields one operation may run (aliases count): `TOO_MANY_MUTATIONS`.
    pub max_mutations: usize,
    /// Most subscriptions running at once on one WebSocket: `TOO_MANY_SUBSCRIPTIONS`.
    pub max_subscriptions: usize,
    /// Schema introspection; turn off in production.
    pub introspection: bool,
    /// "Did you mean …?" hints in errors; turn off in production.
    pub suggestions: bool,
    /// Serve GraphiQL at `/graphiql` (development only).
    pub graphiql: bool,
    /// Keep anonymous answers to public queries a few seconds (`public_answers`); the
    /// functional tests turn it off to read each write at once.
    pub public_answers: bool,
}

impl Default for GraphqlConfig {
    fn default() -> Self {
        Self {
            depth_limit: 12,
            complexity_limit: 1000,
            max_mutations: 5,
            max_subscriptions: 10,
            introspection: true,
            suggestions: true,
            graphiql: false,
            public_answers: true,
        }
    }
}

impl Validate for GraphqlConfig {
    fn validate(&self, v: &mut Violations) {
        v.check(
            (2..=64).contains(&self.depth_limit),
            "graphql.depth_limit",
            "must be between 2 and 64",
        );
        v.check(
            (10..=100_000).contains(&self.complexity_limit),
            "graphql.complexity_limit",
            "must be between 10 and 100000",
        );
        v.check(
            (1..=100).contains(&self.max_mutations),
            "graphql.max_mutations",
            "must be between 1 and 100",
        );
        v.check(
            (1..=1000).contains(&self.max_subscriptions),
            "graphql.max_subscriptions",
            "must be between 1 and 1000",
        );
    }
}

/// Base URLs of the services the gateway calls.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ServiceUrls {
    pub catalogue: String,
    pub facilitators: String,
    pub events: String,
    pub matching: String,
    pub outreach: String,
}

impl Default for ServiceUrls {
    fn default() -> Self {
        Self {
            catalogue: "http://127.0.0.1:8081".into(),
            facilitators: "http://127.0.0.1:8082".into(),
            events: "http://127.0.0.1:8083".into(),
            matching: "http://127.0.0.1:8084".into(),
            outreach: "http://127.0.0.1:8085".into(),
        }
    }
}

impl ServiceUrls {
    pub const NAMES: [&'static str; 5] = [
        "catalogue",
        "facilitators",
        "events",
        "matching",
        "outreach",
    ];

    pub fn get(&self, service: &str) -> Option<&str> {
        match service {
            "catalogue" => Some(&self.catalogue),
            "facilitators" => Some(&self.facilitators),
            "events" => Some(&self.events),
            "matching" => Some(&self.matching),
            "outreach" => Some(&self.outreach),
            _ => None,
        }
    }
}

impl Validate for ServiceUrls {
    fn validate(&self, v: &mut Violations) {
        for name in Self::NAMES {
            let url = self.get(name).unwrap_or_default();
            v.check(
                url.starts_with("http://") || url.starts_with("https://"),
                &format!("services.{name}"),
                "must be an http(s) URL",
            );
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RateLimitConfig {
    /// Per caller (token subject, or client address when anonymous).
    pub requests_per_minute: u64,
    /// What each caller's operations may cost in a minute, summed (`cost`): each GraphQL
    /// operation, and each subscription start, spends its cost.
    pub cost_per_minute: u64,
    /// Proxies (addresses or CIDR blocks: the Ingress controller's pods) whose
    /// `X-Forwarded-For` names the client: the right-most address in it that is not one of
    /// them. Empty (the default): the connecting address is the client.
    #[serde(deserialize_with = "list_or_commas")]
    pub trusted_proxies: Vec<String>,
    /// Tokens that fail verification each client address may present in a minute; past it,
    /// `RATE_LIMITED` (429), whatever the token.
    pub failed_auth_per_minute: u64,
}

impl Validate for RateLimitConfig {
    fn validate(&self, v: &mut Violations) {
        if let Err(e) = crate::client_address::TrustedProxies::parse(&self.trusted_proxies) {
            v.add("rate_limit.trusted_proxies", e);
        }
        v.check(
            (1..=10_000).contains(&self.failed_auth_per_minute),
            "rate_limit.failed_auth_per_minute",
            "must be between 1 and 10000",
        );
    }
}

/// A list in TOML (`["10.0.0.0/8"]`), or one string of comma-separated entries, which is what
/// an environment variable holds (`CAFEIA_RATE_LIMIT__TRUSTED_PROXIES=10.0.0.0/8,fd00::/8`).
fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entries {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Entries::deserialize(d)? {
        Entries::List(list) => list,
        Entries::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            requests_per_minute: 600,
            cost_per_minute: 10_000,
            trusted_proxies: Vec::new(),
            failed_auth_per_minute: 30,
        }
    }
}
