#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod autolock;
pub mod clients;
pub mod error;
pub mod random;
pub mod secret;
pub mod vault;

pub mod grants;
pub mod metering;
pub mod providers;
pub mod request;
pub mod route;
pub mod session;
pub mod wallet;

pub use error::CoreError;
