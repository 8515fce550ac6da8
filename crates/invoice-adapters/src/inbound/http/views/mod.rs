//! JSON shapes of the `/v1` API: responses rendered from the domain and
//! request bodies parsed into it.

mod corrections;
mod requests;
mod tenant;

pub use crate::representation::*;
pub use corrections::*;
pub use requests::*;
pub use tenant::*;
