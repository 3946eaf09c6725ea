//! ZITADEL statuses as Connect, gRPC and gRPC-Web errors. The code comes
//! from the one table in [`crate::api::zitadel::status`]; connectrpc picks
//! the HTTP status and trailers each protocol wants.

use connectrpc::{ConnectError, ErrorCode};

use crate::api::zitadel::status::{Code, Status};

pub fn error_code(code: Code) -> ErrorCode {
    match code {
        Code::InvalidArgument => ErrorCode::InvalidArgument,
        Code::NotFound => ErrorCode::NotFound,
        Code::PermissionDenied => ErrorCode::PermissionDenied,
        Code::ResourceExhausted => ErrorCode::ResourceExhausted,
        Code::FailedPrecondition => ErrorCode::FailedPrecondition,
        Code::Unimplemented => ErrorCode::Unimplemented,
        Code::Internal => ErrorCode::Internal,
        Code::Unavailable => ErrorCode::Unavailable,
        Code::Unauthenticated => ErrorCode::Unauthenticated,
    }
}

impl From<Status> for ConnectError {
    fn from(status: Status) -> ConnectError {
        ConnectError::new(error_code(status.code), status.message())
    }
}
