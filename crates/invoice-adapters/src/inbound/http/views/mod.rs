//! JSON shapes of the `/v1` API: responses rendered from the domain and
//! request bodies parsed into it.

mod corrections;
mod requests;
mod responses;
mod tenant;

pub use corrections::*;
pub use requests::*;
pub use responses::*;
pub use tenant::*;
