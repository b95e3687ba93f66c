use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use nosebook_events::wire::SelfUser;

/// The caller's own account record.
#[utoipa::path(get, path = "/whoami", tag = "accounts",
    security(("session" = [])),
    responses(
        (status = 200, description = "The caller", body = Success<SelfUser>),
        (status = 403, description = "Not signed in (`Not Authenticated`)", body = Failure),
    ))]
pub async fn whoami(caller: SignedIn) -> ApiResult<SelfUser> {
    Ok(Reply::Data(SelfUser::from(caller.0.user)))
}
