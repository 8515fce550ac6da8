//! Secrets at rest: webhook signing secrets (and the stored replies that
//! show them once) are sealed with XChaCha20-Poly1305 under a key from the
//! environment (`INVOICE_SECRET_KEY`), so a copy of the database (a backup,
//! a stolen file) does not hand out the secrets that receivers trust.
//!
//! A sealed value is `enc:v1:` and the base64 of a random 24-byte nonce
//! followed by the ciphertext and its tag. The associated data (a context
//! string) binds it to its row, so a sealed secret copied into another
//! endpoint's row does not open. Values without the prefix are plaintext
//! stored before a key was set (or while none is): they keep working, and
//! [`seal_stored_secrets`] seals them once a key is configured. Without a key
//! new secrets are stored in plaintext, as before.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use diesel::prelude::*;
use invoice_domain::RepositoryError;
use rand::RngCore;

use super::db::schema::webhook_endpoints;
use super::db::{repository_error, DbConnection};

/// The environment variable holding the key.
pub const KEY_ENV: &str = "INVOICE_SECRET_KEY";

/// The prefix of a sealed value.
const SEALED_PREFIX: &str = "enc:v1:";

const NONCE_LEN: usize = 24;

/// Why a key or a stored secret cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// `INVOICE_SECRET_KEY` is not 32 bytes in base64 or hex.
    #[error("{KEY_ENV} must be 32 random bytes, in base64 (44 characters) or hex (64 characters)")]
    BadKey,
    /// A sealed secret was found but no key is configured.
    #[error("a webhook secret is stored encrypted, but {KEY_ENV} is not set")]
    NoKey,
    /// A sealed secret does not open with this key (another key, or a
    /// value moved from another endpoint).
    #[error("a stored webhook secret does not decrypt with {KEY_ENV}; is it the key it was sealed with?")]
    WrongKey,
}

/// Seals and opens webhook secrets; without a key it stores them as given.
#[derive(Clone, Default)]
pub struct SecretBox {
    cipher: Option<XChaCha20Poly1305>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never prints the key.
        f.debug_struct("SecretBox").field("encrypts", &self.encrypts()).finish()
    }
}

impl SecretBox {
    /// Stores secrets as given (no key configured).
    pub fn plaintext() -> Self {
        SecretBox::default()
    }

    /// A box sealing with `key`: 32 bytes in standard or URL-safe base64
    /// (padded or not) or in hex.
    pub fn from_key_text(key: &str) -> Result<Self, SecretError> {
        let key = key.trim();
        let bytes = if key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(key).ok()
        } else {
            use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
            [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(key).ok())
        };
        match bytes {
            Some(bytes) if bytes.len() == 32 => Ok(SecretBox {
                cipher: XChaCha20Poly1305::new_from_slice(&bytes).ok(),
            }),
            _ => Err(SecretError::BadKey),
        }
    }

    /// The box for [`KEY_ENV`]: plaintext when it is unset, an error when it
    /// is set but unusable (a typo must not silently store plaintext).
    pub fn from_env() -> Result<Self, SecretError> {
        match std::env::var(KEY_ENV) {
            Ok(key) => Self::from_key_text(&key),
            Err(std::env::VarError::NotPresent) => Ok(Self::plaintext()),
            Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::BadKey),
        }
    }

    /// True when new secrets are sealed.
    pub fn encrypts(&self) -> bool {
        self.cipher.is_some()
    }

    /// True for a value [`SecretBox::seal`] produced with a key.
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(SEALED_PREFIX)
    }

    /// The value to store for `secret`, bound to `context` (see
    /// [`endpoint_context`]).
    pub fn seal(&self, context: &str, secret: &str) -> String {
        let Some(cipher) = &self.cipher else {
            return secret.to_string();
        };
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any message of this size");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(out))
    }

    /// The secret stored as `stored` under `context`: a plaintext value as
    /// it is, a sealed one decrypted.
    pub fn open(&self, context: &str, stored: &str) -> Result<String, SecretError> {
        let Some(encoded) = stored.strip_prefix(SEALED_PREFIX) else {
            return Ok(stored.to_string());
        };
        let cipher = self.cipher.as_ref().ok_or(SecretError::NoKey)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| SecretError::WrongKey)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretError::WrongKey);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plain = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SecretError::WrongKey)
    }
}

/// The context of an endpoint's signing secrets (current and previous).
pub fn endpoint_context(tenant: i64, endpoint: &str) -> String {
    format!("storno webhook secret v1 {tenant} {endpoint}")
}

/// What [`seal_stored_secrets`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SealReport {
    /// Endpoints whose plaintext secrets were sealed now.
    pub sealed: usize,
    /// Endpoints whose secrets were already sealed (and open with the key).
    pub already_sealed: usize,
}

/// Checks every stored secret against `secrets` and, when it has a key,
/// seals the plaintext ones in place (each row compared-and-set, so several
/// instances starting at once do not fight). Fails when a sealed secret does
/// not open: without a key, or with another key, no delivery could be
/// signed, and starting anyway would only fail them later.
pub fn seal_stored_secrets(conn: &mut DbConnection, secrets: &SecretBox) -> Result<SealReport, SealError> {
    type Row = (i64, String, String, Option<String>);
    let rows: Vec<Row> = webhook_endpoints::table
        .select((
            webhook_endpoints::tenant_id,
            webhook_endpoints::id,
            webhook_endpoints::secret,
            webhook_endpoints::previous_secret,
        ))
        .order((webhook_endpoints::tenant_id, webhook_endpoints::id))
        .load(conn)
        .map_err(repository_error)?;
    let mut report = SealReport::default();
    for (tenant, id, secret, previous) in rows {
        let context = endpoint_context(tenant, &id);
        let current = secrets.open(&context, &secret)?;
        let previous_plain = previous.as_deref().map(|p| secrets.open(&context, p)).transpose()?;
        let plaintext_left =
            !SecretBox::is_sealed(&secret) || previous.as_deref().is_some_and(|p| !SecretBox::is_sealed(p));
        if !plaintext_left {
            report.already_sealed += 1;
            continue;
        }
        if !secrets.encrypts() {
            continue;
        }
        let reseal = |stored: &str, plain: &str| {
            if SecretBox::is_sealed(stored) {
                stored.to_string()
            } else {
                secrets.seal(&context, plain)
            }
        };
        let new_secret = reseal(&secret, &current);
        let new_previous = previous
            .as_deref()
            .zip(previous_plain.as_deref())
            .map(|(stored, plain)| reseal(stored, plain));
        let target = webhook_endpoints::table
            .filter(webhook_endpoints::tenant_id.eq(tenant))
            .filter(webhook_endpoints::id.eq(&id))
            .filter(webhook_endpoints::secret.eq(&secret));
        let updated = match &previous {
            Some(p) => diesel::update(target.filter(webhook_endpoints::previous_secret.eq(p)))
                .set((
                    webhook_endpoints::secret.eq(&new_secret),
                    webhook_endpoints::previous_secret.eq(&new_previous),
                ))
                .execute(conn),
            None => diesel::update(target.filter(webhook_endpoints::previous_secret.is_null()))
                .set(webhook_endpoints::secret.eq(&new_secret))
                .execute(conn),
        }
        .map_err(repository_error)?;
        report.sealed += updated;
    }
    Ok(report)
}

/// Why [`seal_stored_secrets`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// A stored secret does not open.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// Storage failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_their_row() {
        let sealing = SecretBox::from_key_text(KEY).unwrap();
        let sealed = sealing.seal(&endpoint_context(7, "ep-1"), "whsec_abc");
        assert!(
            SecretBox::is_sealed(&sealed) && !sealed.contains("whsec_abc"),
            "{sealed}"
        );
        assert_ne!(
            sealed,
            sealing.seal(&endpoint_context(7, "ep-1"), "whsec_abc"),
            "a fresh nonce every time"
        );
        assert_eq!(
            sealing.open(&endpoint_context(7, "ep-1"), &sealed).unwrap(),
            "whsec_abc"
        );
        // The same key in hex reads it too.
        let hex_key = hex::encode(STANDARD.decode(KEY).unwrap());
        assert_eq!(
            SecretBox::from_key_text(&hex_key)
                .unwrap()
                .open(&endpoint_context(7, "ep-1"), &sealed)
                .unwrap(),
            "whsec_abc"
        );
        // Another row, another key, no key, a damaged value: refused.
        assert_eq!(
            sealing.open(&endpoint_context(8, "ep-1"), &sealed),
            Err(SecretError::WrongKey)
        );
        assert_eq!(
            sealing.open(&endpoint_context(7, "ep-2"), &sealed),
            Err(SecretError::WrongKey)
        );
        let other = SecretBox::from_key_text(&"ab".repeat(32)).unwrap();
        assert_eq!(
            other.open(&endpoint_context(7, "ep-1"), &sealed),
            Err(SecretError::WrongKey)
        );
        assert_eq!(
            SecretBox::plaintext().open(&endpoint_context(7, "ep-1"), &sealed),
            Err(SecretError::NoKey)
        );
        let mut damaged = sealed.clone();
        damaged.pop();
        damaged.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(
            sealing.open(&endpoint_context(7, "ep-1"), &damaged),
            Err(SecretError::WrongKey)
        );
        assert_eq!(
            sealing.open(&endpoint_context(7, "ep-1"), "enc:v1:AAAA"),
            Err(SecretError::WrongKey)
        );
        // Plaintext rows from before keep working, with or without a key.
        assert_eq!(
            sealing.open(&endpoint_context(7, "ep-1"), "whsec_old").unwrap(),
            "whsec_old"
        );
        assert_eq!(
            SecretBox::plaintext().seal(&endpoint_context(7, "ep-1"), "whsec_x"),
            "whsec_x"
        );
    }

    #[test]
    fn keys_must_be_32_bytes() {
        for bad in [
            "",
            "short",
            &"ab".repeat(31),
            &STANDARD.encode([0u8; 16]),
            "zz".repeat(32).as_str(),
        ] {
            assert_eq!(
                SecretBox::from_key_text(bad).unwrap_err(),
                SecretError::BadKey,
                "{bad:?}"
            );
        }
        assert!(!format!("{:?}", SecretBox::from_key_text(KEY).unwrap()).contains(KEY));
    }
}
