//! JSON shapes of the `/v1` API: responses rendered from the domain and
//! request bodies parsed into it.

mod corrections;
mod requests;
mod responses;

pub use corrections::*;
pub use requests::*;
pub use responses::*;
