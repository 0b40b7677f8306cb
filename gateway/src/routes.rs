//! HTTP routes: GraphQL over POST and GET, subscriptions over WebSocket, GraphiQL in
//! development.

use crate::{
    admission::{Admitted, Refused, admit, rate_key},
    body,
    clients::{CallContext, ReadinessLoader, Services},
    errors,
    limits::{Budget, ConnectionSubscriptions, TokenExpiry},
    public_answers::{Key, PublicAnswers},
    schema::AppSchema,
    system::Viewer,
};
use actix_web::{HttpRequest, HttpResponse, guard, web};
use async_graphql::{ErrorExtensions, dataloader::DataLoader, http::GraphiQLSource};
use async_graphql_actix_web::{GraphQLResponse, GraphQLSubscription};
use cafeia_platform::{ErrorCode, auth::Verifier, cache::RateLimiter};

#[derive(Clone)]
pub struct GatewayState {
    pub schema: AppSchema,
    pub verifier: Verifier,
    pub services: Services,
    pub limiter: RateLimiter,
    /// Client addresses behind trusted proxies, and their failed-token budget (`admission`).
    pub clients: crate::admission::Clients,
    /// Each caller's cost budget (`rate_limit.cost_per_minute`), spent by `limits`.
    pub budget: RateLimiter,
    pub graphiql: bool,
    pub seats: crate::seats::SeatsHub,
    pub max_body_bytes: usize,
    /// Answers to anonymous public queries, kept a few seconds (`graphql.public_answers`).
    pub public_answers: Option<std::sync::Arc<PublicAnswers>>,
}

pub fn configure(cfg: &mut web::ServiceConfig, state: GatewayState) {
    let graphiql = state.graphiql;
    cfg.app_data(web::Data::new(state)).service(
        web::resource("/graphql")
            .route(
                web::get()
                    .guard(guard::Header("upgrade", "websocket"))
                    .to(subscriptions),
            )
            .route(web::get().to(graphql_get))
            .route(web::post().to(graphql_post)),
    );
    // iCalendar feeds and JSON-LD: what a client needs that is not GraphQL.
    crate::documents::configure(cfg);
    if graphiql {
        cfg.route("/graphiql", web::get().to(graphiql_page));
    }
}

async fn graphql_post(
    state: web::Data<GatewayState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    match body::post(&req, payload, state.max_body_bytes).await {
        Ok(request) => execute(&state, &req, request).await,
        Err(refusal) => body::refused(&refusal),
    }
}

/// GET carries queries only: a mutation through a link or an image tag must never run.
async fn graphql_get(state: web::Data<GatewayState>, req: HttpRequest) -> HttpResponse {
    let request = match body::get(&req) {
        Ok(request) => request,
        Err(refusal) => return body::refused(&refusal),
    };
    if let Ok(doc) = async_graphql::parser::parse_query(&request.query) {
        let mutates = doc
            .operations
            .iter()
            .any(|(_, op)| op.node.ty != async_graphql::parser::types::OperationType::Query);
        if mutates {
            let response = errors::response(
                ErrorCode::MethodNotAllowed,
                "GET n'accepte que des requêtes (query) ; utilisez POST",
            );
            return HttpResponse::MethodNotAllowed().json(response);
        }
    }
    execute(&state, &req, request).await
}

async fn execute(
    state: &GatewayState,
    req: &HttpRequest,
    request: async_graphql::Request,
) -> HttpResponse {
    let Admitted { caller, call } = match admit(state, req, false).await {
        Ok(admitted) => admitted,
        Err(Refused::Unauthenticated(why)) => {
            let response = errors::response(ErrorCode::Unauthenticated, &why);
            return HttpResponse::Unauthorized().json(response);
        }
        Err(Refused::Limited(retry_after)) => {
            let response = errors::response(
                ErrorCode::RateLimited,
                "trop de requêtes, réessayez plus tard",
            );
            return HttpResponse::TooManyRequests()
                .insert_header(("retry-after", retry_after.as_secs().to_string()))
                .json(response);
        }
    };
    // Anonymous: the answer may be one kept for the same request (`public_answers`).
    let public = state.public_answers.as_ref().filter(|_| caller.is_none());
    let kept = public.and_then(|answers| Some((answers, Key::of(&request)?)));
    if let Some((answers, key)) = &kept
        && let Some(answer) = answers.answer(key)
    {
        return answer;
    }
    let address = state.clients.address(req);
    let request = prepare(state, request, caller, call, address);
    let response = state.schema.execute(request).await;
    if let Some(retry_after) = over_budget(&response) {
        return HttpResponse::TooManyRequests()
            .insert_header(("retry-after", retry_after))
            .json(response);
    }
    if let Some((answers, key)) = kept
        && let Some(sent) = answers.keep(key, &response)
    {
        return sent;
    }
    let response: GraphQLResponse = response.into();
    actix_web::Responder::respond_to(response, req).map_into_boxed_body()
}

/// The request with what every resolver needs: the caller, their budget, the service
/// clients and the per-request loaders.
pub(crate) fn prepare(
    state: &GatewayState,
    mut request: async_graphql::Request,
    caller: Option<cafeia_platform::auth::Caller>,
    call: CallContext,
    address: Option<std::net::IpAddr>,
) -> async_graphql::Request {
    let loader = DataLoader::new(
        ReadinessLoader {
            services: state.services.clone(),
            ctx: call.clone(),
        },
        tokio::spawn,
    );
    crate::loaders::attach(&mut request.data, &state.services, &call);
    let budget = Budget::new(state.budget.clone(), &rate_key(caller.as_ref(), address));
    request
        .data(budget)
        .data(Viewer(caller))
        .data(call)
        .data(state.services.clone())
        .data(state.seats.clone())
        .data(loader)
}

/// A request refused because the caller's cost budget is spent: `retry-after`, in seconds.
fn over_budget(response: &async_graphql::Response) -> Option<String> {
    if response.data != async_graphql::Value::Null {
        return None;
    }
    let ext = response.errors.iter().find_map(|e| {
        let ext = e.extensions.as_ref()?;
        matches!(ext.get("code"), Some(async_graphql::Value::String(c)) if c == ErrorCode::RateLimited.as_str())
            .then_some(ext)
    })?;
    Some(
        ext.get("retryAfter")
            .map_or_else(|| "60".to_owned(), ToString::to_string),
    )
}

/// Why a connection is refused once its address is over the failed-token budget.
const TOO_MANY_FAILED_TOKENS: &str =
    "trop de jetons refusés depuis cette adresse, réessayez plus tard";

/// graphql-ws / graphql-transport-ws. The token comes in the `connection_init` payload
/// (`{"Authorization": "Bearer …"}`), since browsers cannot set headers on WebSockets.
async fn subscriptions(
    state: web::Data<GatewayState>,
    req: HttpRequest,
    payload: web::Payload,
) -> actix_web::Result<HttpResponse> {
    let verifier = state.verifier.clone();
    let services = state.services.clone();
    let seats = state.seats.clone();
    let limiter = state.budget.clone();
    let address = state.clients.address(&req);
    let clients = state.clients.clone();
    GraphQLSubscription::new(state.schema.clone())
        .on_connection_init(move |init| async move {
            let token = ["Authorization", "authorization", "token"]
                .iter()
                .find_map(|k| init.get(*k).and_then(|v| v.as_str()))
                .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim().to_owned());
            let caller = match token {
                Some(token) => match verifier.verify(&token).await {
                    Ok(caller) => Some(caller),
                    // Counted against the address like a failed token over HTTP.
                    Err(e) => {
                        let (code, why) = match clients.failed_token(address, false).await {
                            Some(_) => (ErrorCode::RateLimited, TOO_MANY_FAILED_TOKENS.into()),
                            None => (ErrorCode::Unauthenticated, e.to_string()),
                        };
                        return Err(async_graphql::Error::new(why)
                            .extend_with(|_, ext| ext.set("code", code.as_str())));
                    }
                },
                None => None,
            };
            let mut data = async_graphql::Data::default();
            // Every operation on the connection spends the caller's budget; subscriptions
            // are bounded per connection and end when the token expires.
            data.insert(Budget::new(limiter, &rate_key(caller.as_ref(), address)));
            data.insert(ConnectionSubscriptions::default());
            if let Some(expiry) = caller.as_ref().and_then(|c| TokenExpiry::of(c.token())) {
                data.insert(expiry);
            }
            // Operations sent over the connection call the services as its caller, with the
            // same per-kind batching as over HTTP.
            let call = CallContext {
                token: caller.as_ref().map(|c| c.token().into()),
                request: None,
                client: address,
            };
            crate::loaders::attach(&mut data, &services, &call);
            data.insert(DataLoader::new(
                ReadinessLoader {
                    services: services.clone(),
                    ctx: call.clone(),
                },
                tokio::spawn,
            ));
            data.insert(Viewer(caller));
            data.insert(services.clone());
            data.insert(call);
            data.insert(seats);
            Ok(data)
        })
        .start(&req, payload)
}

async fn graphiql_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .subscription_endpoint("/graphql")
                .title("Café IA — GraphiQL")
                .finish(),
        )
}
