//! Who is calling: OAuth scopes, JWT access tokens, opaque secrets, and the
//! request extractor that turns `Authorization: Bearer …` into an
//! [`Auth`].

pub(crate) mod extract;
pub mod scopes;
pub mod secrets;
pub mod tokens;

pub use extract::{Auth, MaybeAuth};
pub use scopes::Scopes;
