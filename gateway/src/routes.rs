//! HTTP routes: GraphQL over POST and GET, subscriptions over WebSocket, GraphiQL in
//! development.

use crate::{
    body,
    clients::{CallContext, ReadinessLoader, Services},
    errors,
    schema::AppSchema,
    system::Viewer,
};
use actix_web::{HttpRequest, HttpResponse, guard, web};
use async_graphql::{ErrorExtensions, dataloader::DataLoader, http::GraphiQLSource};
use async_graphql_actix_web::{GraphQLResponse, GraphQLSubscription};
use cafeia_platform::{
    ErrorCode,
    auth::Verifier,
    cache::{RateDecision, RateLimiter},
    telemetry,
};

#[derive(Clone)]
pub struct GatewayState {
    pub schema: AppSchema,
    pub verifier: Verifier,
    pub services: Services,
    pub limiter: RateLimiter,
    pub graphiql: bool,
    pub seats: crate::seats::SeatsHub,
    pub max_body_bytes: usize,
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
        Err(refusal) => refusal.response(),
    }
}

/// GET carries queries only: a mutation through a link or an image tag must never run.
async fn graphql_get(state: web::Data<GatewayState>, req: HttpRequest) -> HttpResponse {
    let request = match body::get(&req) {
        Ok(request) => request,
        Err(refusal) => return refusal.response(),
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
    let caller = match state.verifier.from_request(req).await {
        Ok(caller) => caller,
        Err(e) => {
            let response = errors::response(ErrorCode::Unauthenticated, &e.to_string());
            return HttpResponse::Unauthorized().json(response);
        }
    };
    let key = match &caller {
        Some(c) => format!("sub:{}", c.sub),
        None => format!(
            "ip:{}",
            req.peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_else(|| "unknown".into())
        ),
    };
    match state.limiter.hit(&key).await {
        Ok(RateDecision::Limited { retry_after }) => {
            let response = errors::response(
                ErrorCode::RateLimited,
                "trop de requêtes, réessayez plus tard",
            );
            return HttpResponse::TooManyRequests()
                .insert_header(("retry-after", retry_after.as_secs().to_string()))
                .json(response);
        }
        Ok(RateDecision::Allowed { .. }) => {}
        // The cache being down must not take the API down with it.
        Err(e) => tracing::warn!(error = %e, "rate limiter unavailable"),
    }
    let call = CallContext {
        token: caller.as_ref().map(|c| c.token().into()),
        request: telemetry::current(),
    };
    let loader = DataLoader::new(
        ReadinessLoader {
            services: state.services.clone(),
            ctx: call.clone(),
        },
        tokio::spawn,
    );
    let request = crate::loaders::attach(request, &state.services, &call);
    let request = request
        .data(Viewer(caller))
        .data(call)
        .data(state.services.clone())
        .data(state.seats.clone())
        .data(loader);
    let response: GraphQLResponse = state.schema.execute(request).await.into();
    actix_web::Responder::respond_to(response, req).map_into_boxed_body()
}

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
    GraphQLSubscription::new(state.schema.clone())
        .on_connection_init(move |init| async move {
            let token = ["Authorization", "authorization", "token"]
                .iter()
                .find_map(|k| init.get(*k).and_then(|v| v.as_str()))
                .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim().to_owned());
            let caller = match token {
                Some(token) => Some(verifier.verify(&token).await.map_err(|e| {
                    async_graphql::Error::new(e.to_string())
                        .extend_with(|_, ext| ext.set("code", ErrorCode::Unauthenticated.as_str()))
                })?),
                None => None,
            };
            let mut data = async_graphql::Data::default();
            data.insert(Viewer(caller));
            data.insert(services.clone());
            data.insert(CallContext::default());
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
