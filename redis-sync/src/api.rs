//! The typed command API and the `query` helpers, expanded from redis-core's templates so
//! that the blocking and async clients share one definition.

use crate::connection::ConnectionLike;

redis_core::commands_template!(maybe_async::must_be_sync);
redis_core::query_template!(maybe_async::must_be_sync);
