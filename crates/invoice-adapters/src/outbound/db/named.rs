//! Enums stored by name in `TEXT` columns, typed at the database edge.
//!
//! A status column holds the snake_case name of an enum value. Comparing
//! those names as strings invites typos and silent fallbacks, so every such
//! enum implements [`StoredName`] (its one naming source) and its columns
//! read and write [`Named<T>`], which Diesel maps through `FromSql`/`ToSql`
//! on every backend the adapters use. A stored name that no enum value
//! carries fails the read as corrupt data; it never becomes a default.

use std::fmt::Debug;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::connection::MultiBackend;

/// An enum whose values are stored by name. `name` and `from_name` are the
/// only place the stored spelling is written, so they cannot drift apart.
pub trait StoredName: Sized + Copy + Debug + 'static {
    /// What the column holds, for the message when a stored name is unknown.
    const WHAT: &'static str;

    /// The stored name of this value.
    fn name(self) -> &'static str;

    /// The value a stored name stands for, if any.
    fn from_name(text: &str) -> Option<Self>;
}

/// A [`StoredName`] enum as a `TEXT` column value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct Named<T: StoredName>(pub T);

impl<T: StoredName> Named<T> {
    /// Reads a stored name back; unknown is an error naming the column,
    /// worded the same wherever the name was stored.
    fn parse(text: &str) -> Result<Self, String> {
        T::from_name(text)
            .map(Named)
            .ok_or_else(|| format!("corrupt stored data: unknown {} {text:?}", T::WHAT))
    }
}

impl<T: StoredName> From<T> for Named<T> {
    fn from(value: T) -> Self {
        Named(value)
    }
}

/// Documents stored beside the rows (the invoice versions) spell a named
/// value as its column does, so a row and its document never disagree.
impl<T: StoredName> Serialize for Named<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name())
    }
}

/// An unknown name in a stored document is an error, as in a column.
impl<'de, T: StoredName> Deserialize<'de> for Named<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Named::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Implements the `TEXT` mapping of [`Named`] for a backend: reads go
/// through the backend's own `String`, writes through its own `str`.
macro_rules! named_text_for {
    ($($backend:ty),*) => {$(
        impl<T: StoredName> FromSql<Text, $backend> for Named<T> {
            fn from_sql(bytes: <$backend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, $backend>>::from_sql(bytes)?;
                Ok(Named::parse(&text)?)
            }
        }

        impl<T: StoredName> ToSql<Text, $backend> for Named<T> {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, $backend>) -> serialize::Result {
                <str as ToSql<Text, $backend>>::to_sql(self.0.name(), out)
            }
        }
    )*};
}

// The multi-connection backend forwards to the backend in use through the
// same `String` and `str` mappings, so it takes the same two impls.
named_text_for!(Pg, Sqlite, MultiBackend);

/// Declares an adapter-side enum stored by name: the enum, its
/// [`StoredName`] impl and `as_str`, from one list of `Variant = "name"`.
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident as $what:literal {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            #[allow(dead_code)]
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored (and wire) name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl $crate::outbound::db::named::StoredName for $name {
            const WHAT: &'static str = $what;

            fn name(self) -> &'static str {
                self.as_str()
            }

            fn from_name(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use stored_enum;

/// Stores an enum declared elsewhere (the domain's, a port's) by the
/// `as_str` names it already has, so that spelling stays its one source:
/// `stored_by_name!(InvoiceStatus as "invoice status": Draft, Open, …)`.
/// Listing the variants here is checked both ways: a variant missing from the
/// list fails to compile in the exhaustive `match`, and a name that two
/// variants share fails the unit test each use should carry.
macro_rules! stored_by_name {
    ($ty:ty as $what:literal: $($variant:ident),+ $(,)?) => {
        impl $crate::outbound::db::named::StoredName for $ty {
            const WHAT: &'static str = $what;

            fn name(self) -> &'static str {
                self.as_str()
            }

            fn from_name(text: &str) -> Option<Self> {
                // The match proves the list names every variant.
                let _every_variant_listed = |v: $ty| match v {
                    $(<$ty>::$variant => (),)+
                };
                [$(<$ty>::$variant,)+].into_iter().find(|v| v.as_str() == text)
            }
        }
    };
}
pub(crate) use stored_by_name;

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    use super::*;
    use crate::outbound::db::DbConnection;

    stored_enum! {
        /// A status for the round trip below.
        enum Light as "light" {
            /// Stop.
            Red = "red",
            /// Go.
            Green = "green",
        }
    }

    /// A type declared elsewhere, with names of its own.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Door {
        Open,
        Shut,
    }

    impl Door {
        fn as_str(self) -> &'static str {
            match self {
                Door::Open => "open",
                Door::Shut => "shut",
            }
        }
    }

    stored_by_name!(Door as "door": Open, Shut);

    #[test]
    fn a_type_declared_elsewhere_reads_back_by_its_own_names() {
        assert_eq!(Door::from_name("shut"), Some(Door::Shut));
        assert_eq!(Door::from_name("open"), Some(Door::Open));
        assert_eq!(Door::from_name("ajar"), None);
        assert_eq!(Door::WHAT, "door");
    }

    #[test]
    fn a_stored_document_spells_a_named_value_as_its_column_does() {
        assert_eq!(serde_json::to_string(&Named(Light::Red)).unwrap(), "\"red\"");
        let back: Named<Light> = serde_json::from_str("\"green\"").unwrap();
        assert_eq!(back, Named(Light::Green));
        let error = serde_json::from_str::<Named<Light>>("\"amber\"").expect_err("amber is no light");
        assert!(error.to_string().contains("unknown light \"amber\""), "{error}");
    }

    diesel::table! {
        lights (id) {
            id -> Integer,
            state -> Text,
        }
    }

    #[derive(QueryableByName)]
    struct Raw {
        #[diesel(sql_type = Text)]
        state: String,
    }

    fn connection() -> DbConnection {
        let mut conn = DbConnection::Sqlite(SqliteConnection::establish(":memory:").expect("sqlite in memory"));
        diesel::sql_query("CREATE TABLE lights (id INTEGER PRIMARY KEY, state TEXT NOT NULL)")
            .execute(&mut conn)
            .expect("table");
        conn
    }

    #[test]
    fn a_named_value_is_stored_by_its_name_and_read_back_as_itself() {
        let mut conn = connection();
        diesel::insert_into(lights::table)
            .values((lights::id.eq(1), lights::state.eq(Named(Light::Green))))
            .execute(&mut conn)
            .expect("insert");
        let raw: Raw = diesel::sql_query("SELECT state FROM lights")
            .get_result(&mut conn)
            .expect("raw");
        assert_eq!(raw.state, "green");
        let back: Named<Light> = lights::table
            .select(lights::state)
            .filter(lights::state.eq(Named(Light::Green)))
            .first(&mut conn)
            .expect("typed read");
        assert_eq!(back, Named(Light::Green));
        assert_eq!(
            Light::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
            ["red", "green"]
        );
    }

    #[test]
    fn an_unknown_stored_name_is_an_error_not_a_default() {
        let mut conn = connection();
        diesel::sql_query("INSERT INTO lights (id, state) VALUES (1, 'amber')")
            .execute(&mut conn)
            .expect("insert");
        let read = lights::table.select(lights::state).first::<Named<Light>>(&mut conn);
        let error = read.expect_err("amber is no light");
        let message = format!("{error:?}");
        assert!(
            message.contains("unknown light") && message.contains("amber"),
            "{message}"
        );
    }
}
