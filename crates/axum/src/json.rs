//! A JSON body extractor whose refusals are Custodia's JSON errors.

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Error;
use crate::layer::truncate;

/// The longest refusal message repeated back, in bytes.
const MAX_MESSAGE: usize = 300;

/// `axum::Json`, but a body it cannot read (malformed JSON, a missing field,
/// a wrong content type, a body over the limit set with
/// `axum::extract::DefaultBodyLimit`) is an [`Error::BadRequest`] with the
/// status axum chose (400, 413, 415 or 422) and the JSON error body, like
/// every other refusal.
///
/// ```
/// use custodia_axum::Json;
///
/// #[derive(serde::Deserialize)]
/// struct NewTicket { subject: String }
///
/// async fn create(Json(ticket): Json<NewTicket>) -> String { ticket.subject }
/// # let _ = axum::Router::<()>::new().route("/tickets", axum::routing::post(create));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(Error::BadRequest {
                status: rejection.status(),
                message: truncate(&rejection.body_text(), MAX_MESSAGE),
            }),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
