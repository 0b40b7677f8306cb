//! The web app mounted in the gateway's process: its pages run their operations on this
//! gateway's schema directly, admitted like any request (the person's token, the visitor's
//! address behind trusted proxies, the rate limit and cost budget).

use crate::{
    admission::{Admitted, Refused, admit_token},
    errors,
    routes::{GatewayState, prepare},
};
use actix_web::HttpRequest;
use async_trait::async_trait;
use cafeia_platform::ErrorCode;
use cafeia_web::{Graph, Operation};
use serde_json::Value;

pub struct InProcess {
    pub state: GatewayState,
}

#[async_trait(?Send)]
impl Graph for InProcess {
    async fn execute(
        &self,
        req: &HttpRequest,
        bearer: Option<&str>,
        operation: Operation,
    ) -> Value {
        let address = self.state.clients.address(req);
        let response = match admit_token(&self.state, bearer, address).await {
            Ok(Admitted { caller, call }) => {
                let variables = async_graphql::Variables::from_json(operation.variables);
                let request = async_graphql::Request::new(operation.query)
                    .operation_name(operation.operation_name)
                    .variables(variables);
                let request = prepare(&self.state, request, caller, call, address);
                self.state.schema.execute(request).await
            }
            Err(Refused::Unauthenticated(why)) => {
                errors::response(ErrorCode::Unauthenticated, &why)
            }
            Err(Refused::Limited(_)) => errors::response(
                ErrorCode::RateLimited,
                "trop de requêtes, réessayez plus tard",
            ),
        };
        serde_json::to_value(&response).unwrap_or(Value::Null)
    }
}
