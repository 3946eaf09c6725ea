//! A panic while a request is handled becomes the dialect's 500, and the
//! connection stays usable. The panic itself is logged once, by the hook
//! `telemetry::init` installs, without a backtrace: capturing one on every
//! panic costs hundreds of megabytes of symbol tables that are never freed.

use poem::Response;
use poem::middleware::CatchPanic;

/// Catches panics and answers with `render`, the dialect's internal error.
pub fn catch(
    render: fn() -> Response,
) -> CatchPanic<impl Fn(Box<dyn std::any::Any + Send>) -> Response + Clone + Send + Sync + 'static>
{
    CatchPanic::new().with_handler(move |_panic| render())
}
